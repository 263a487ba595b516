#include "proxy/http/filters/jwt_filter.h"

#include <ctime>

#include "core/base/log.h"
#include "proxy/http/active_request.h"

namespace mesh::proxy {

FilterStatus JwtFilter::onRequestHeaders(ActiveRequest& request) {
  RequestState& r = request.request();
  authn::AuthnResult result =
      authenticator_.authenticate(r.headers, r.query(), static_cast<int64_t>(std::time(nullptr)));
  if (!result.tokenFound) return FilterStatus::kContinue;
  request.worker().stats.jwtCounter(result.failure).inc();
  if (result.authenticated()) {
    r.requestPrincipal = std::move(result.principal);
    r.jwtClaims = std::move(result.claims);
    return FilterStatus::kContinue;
  }
  std::string_view body = authn::failureBody(result.failure);
  LOG_DEBUG("jwt", "refused ", r.methodName, " ", r.pathOnly(), " from ",
            r.peerPrincipal.empty() ? r.peer.ip() : r.peerPrincipal, ": ", body);
  core::http::HeaderMap extra;
  extra.set("www-authenticate", "Bearer realm=\"http://" + r.authority + std::string(r.pathOnly()) +
                                    "\", error=\"invalid_token\"");
  request.sendLocalReply(401, body, 0, &extra);
  return FilterStatus::kStop;
}

}  // namespace mesh::proxy
