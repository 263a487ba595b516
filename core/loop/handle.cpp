#include "core/loop/handle.h"

#include <string>

namespace mesh::core {

namespace {

Code codeFor(int rc) {
  switch (rc) {
    case UV_ECONNREFUSED:
    case UV_ECONNRESET:
    case UV_ECONNABORTED:
    case UV_EHOSTUNREACH:
    case UV_ENETUNREACH:
    case UV_ENETDOWN:
    case UV_EPIPE:
    case UV_ECANCELED:
    case UV_EOF:
    case UV_EADDRINUSE:
    case UV_EADDRNOTAVAIL:
    case UV_ENOTCONN:
      return Code::unavailable;
    case UV_ETIMEDOUT:
      return Code::timeout;
    case UV_EACCES:
    case UV_EPERM:
      return Code::denied;
    case UV_ENOENT:
      return Code::not_found;
    case UV_EINVAL:
    case UV_EAFNOSUPPORT:
      return Code::invalid;
    case UV_ENOBUFS:
    case UV_E2BIG:
      return Code::too_large;
    default:
      return Code::internal;
  }
}

}  // namespace

Status uvStatus(int rc, std::string_view what) {
  if (rc >= 0) return {};
  std::string message(what);
  message += ": ";
  message += uv_strerror(rc);
  message += " (";
  message += uv_err_name(rc);
  message += ")";
  return error(codeFor(rc), std::move(message));
}

}  // namespace mesh::core
