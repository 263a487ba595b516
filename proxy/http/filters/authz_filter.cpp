#include "proxy/http/filters/authz_filter.h"

#include "core/base/log.h"
#include "proxy/http/active_request.h"

namespace mesh::proxy {

authz::Attributes authzAttributes(const RequestState& r) {
  authz::Attributes a;
  a.http = true;
  a.principal = r.peerPrincipal;
  a.sourceIp = authz::IpAddress::parse(r.peer.ip());
  a.remoteIp = a.sourceIp;
  a.destinationPort = r.port;
  a.sni = r.serverName;
  a.host = r.authority;
  a.method = r.methodName;
  a.path = r.pathOnly();
  a.headers = &r.headers;
  a.requestPrincipal = r.requestPrincipal;
  a.claims = r.jwtClaims.get();
  return a;
}

FilterStatus AuthzFilter::onRequestHeaders(ActiveRequest& request) {
  const RequestState& r = request.request();
  authz::Decision d = engine_.check(authzAttributes(r));
  if (!d.audit.empty()) {
    LOG_INFO("authz", "audit: ", d.audit, " matched ", r.methodName, " ", r.pathOnly(), " from ",
             r.peerPrincipal.empty() ? r.peer.ip() : r.peerPrincipal);
  }
  if (d.allowed) return FilterStatus::kContinue;
  request.worker().stats.rbacDeniedHttp.inc();
  LOG_DEBUG("authz", "denied ", r.methodName, " ", r.pathOnly(), " from ",
            r.peerPrincipal.empty() ? r.peer.ip() : r.peerPrincipal, " by ",
            d.policy.empty() ? std::string_view("no matching ALLOW policy") : d.policy);
  request.sendLocalReply(403, "RBAC: access denied", 0);
  return FilterStatus::kStop;
}

}  // namespace mesh::proxy
