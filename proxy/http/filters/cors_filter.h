// CorsFilter: a route's corsPolicy. A preflight (OPTIONS with Origin and
// Access-Control-Request-Method) from an allowed origin is answered here with the allowed
// methods, headers and max age; other requests from an allowed origin go on and their
// responses get Access-Control-Allow-Origin (and expose/credentials lines). Requests from
// origins the policy does not allow pass through untouched, as in Envoy.
#pragma once

#include "proxy/http/filter.h"

namespace mesh::proxy {

class CorsFilter final : public HttpFilter {
 public:
  FilterStatus onRequestHeaders(ActiveRequest& request) override;
  void onResponseHeaders(ActiveRequest& request, int status,
                         core::http::HeaderMap& headers) override;

 private:
  bool allowed_ = false;
  std::string origin_;
};

}  // namespace mesh::proxy
