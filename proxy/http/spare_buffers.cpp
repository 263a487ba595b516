#include "proxy/http/spare_buffers.h"

namespace mesh::proxy {

SpareHeaderMaps& spareHeaderMaps() {
  thread_local SpareHeaderMaps bin;
  return bin;
}

SpareStrings& spareStrings() {
  thread_local SpareStrings bin;
  return bin;
}

}  // namespace mesh::proxy
