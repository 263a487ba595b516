#include "proxy/server/proxy_stats.h"

#include <string>

#include "proxy/http/response_flags.h"

namespace mesh::proxy {

ProxyStats::ProxyStats(core::metrics::Registry& r)
    : registry(r),
      downstreamRequests(r.counter("mesh_proxy_downstream_requests_total",
                                   "HTTP requests received from clients").series({})),
      downstreamConnections(r.counter("mesh_proxy_downstream_connections_total",
                                      "Connections accepted on the proxy's listeners").series({})),
      downstreamConnectionsActive(r.gauge("mesh_proxy_downstream_connections_active",
                                          "Client connections open now").series({})),
      upstreamRequests(r.counter("mesh_proxy_upstream_requests_total",
                                 "Request attempts sent to upstream hosts").series({})),
      retries(r.counter("mesh_proxy_upstream_retries_total", "Request attempts that were retries")
                  .series({})),
      configReloadOk(r.counter("mesh_proxy_config_reloads_total", "Configuration loads",
                               {"result"}).series({"ok"})),
      configReloadError(r.counter("mesh_proxy_config_reloads_total", "Configuration loads",
                                  {"result"}).series({"error"})),
      tcpConnections(r.counter("mesh_proxy_tcp_connections_total",
                               "Connections forwarded by TCP listeners").series({})),
      rbacDeniedHttp(r.counter("mesh_proxy_rbac_denied_total",
                               "Inbound requests and connections denied by AuthorizationPolicy",
                               {"protocol"}).series({"http"})),
      rbacDeniedTcp(r.counter("mesh_proxy_rbac_denied_total",
                              "Inbound requests and connections denied by AuthorizationPolicy",
                              {"protocol"}).series({"tcp"})),
      flags(r.counter("mesh_proxy_response_flags_total",
                      "Requests by response flag (why they failed or were changed)",
                      {"response_flags"})),
      protocolErrors(r.counter("mesh_proxy_downstream_protocol_errors_total",
                               "Requests refused as malformed, by reason", {"reason"})),
      jwt(r.counter("mesh_proxy_jwt_authn_total",
                    "Inbound requests that carried a JWT, by result (ok or the refusal reason)",
                    {"result"})),
      istio(r) {
  for (uint32_t bit = 1; bit <= kUpstreamProtocolError; bit <<= 1)
    flagByBit[static_cast<size_t>(__builtin_ctz(bit))] = &flags.series({responseFlagsString(bit)});
  for (size_t i = 0; i < jwtByResult.size(); ++i)
    jwtByResult[i] = &jwt.series({authn::failureLabel(static_cast<authn::JwtFailure>(i))});
}

core::metrics::Counter& ProxyStats::protocolError(std::string_view kind) {
  return protocolErrors.series({kind});
}

}  // namespace mesh::proxy
