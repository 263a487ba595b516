#include "core/base/status.h"

namespace mesh::core {

const char* codeName(Code code) {
  switch (code) {
    case Code::ok: return "ok";
    case Code::invalid: return "invalid";
    case Code::not_found: return "not_found";
    case Code::denied: return "denied";
    case Code::unavailable: return "unavailable";
    case Code::timeout: return "timeout";
    case Code::too_large: return "too_large";
    case Code::internal: return "internal";
  }
  return "unknown";
}

std::string Status::toString() const {
  if (ok()) return "ok";
  return std::string(codeName(code_)) + ": " + message_;
}

}  // namespace mesh::core
