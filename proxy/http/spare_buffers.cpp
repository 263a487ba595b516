#include "proxy/http/spare_buffers.h"

#include "proxy/http/active_request.h"
#include "proxy/http/router_filter.h"

namespace mesh::proxy {

SpareHeaderMaps& spareHeaderMaps() {
  thread_local SpareHeaderMaps bin;
  return bin;
}

SpareStrings& spareStrings() {
  thread_local SpareStrings bin;
  return bin;
}

void releaseSpareBuffers() {
  spareHeaderMaps().release();
  spareStrings().release();
  ActiveRequest::releaseCached();
  RouterFilter::releaseCached();
}

}  // namespace mesh::proxy
