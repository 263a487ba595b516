// HTTP URLs as `mesh echo --call` takes them, and the proxy of $http_proxy. Only http:// is
// spoken: in the mesh the sidecar adds TLS, the app does not.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/status.h"

namespace mesh::cmd::echo {

struct HttpUrl {
  std::string host;  // a name or a numeric address (IPv6 without brackets)
  std::uint16_t port = 80;
  std::string authority;     // as written: "reviews:9080", sent as Host
  std::string target = "/";  // origin form: path and query

  // "http://reviews:9080/reviews/0", the absolute form a proxy is sent.
  std::string absolute() const { return "http://" + authority + target; }
};

// "http://host[:port][/path][?query]"; a fragment is dropped. Anything else (https, user
// info, a bad port) is Code::invalid with the reason.
core::Result<HttpUrl> parseHttpUrl(std::string_view text);

// The proxy named by an http_proxy value as curl reads it: "http://127.0.0.1:15001",
// "127.0.0.1:15001" or "http://proxy" (port 1080, curl's default). Empty: no proxy.
core::Result<std::optional<HttpUrl>> parseProxy(std::string_view value);

// $http_proxy, else $HTTP_PROXY (curl reads the lower-case one first).
std::string proxyFromEnvironment();

}  // namespace mesh::cmd::echo
