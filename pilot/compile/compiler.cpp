#include "pilot/compile/compiler.h"

namespace mesh::pilot {

core::model::Snapshot compileSnapshot(const MeshView& view, const ProxyInfo& proxy) {
  OutboundConfig out = proxy.gateway ? compileGateway(view, proxy)
                                     : compileOutbound(view, Scope(view, proxy.ns, proxy.labels));
  InboundConfig in = compileInbound(view, proxy);
  core::model::Snapshot s;
  s.listeners = std::move(out.listeners);
  s.routeTables = std::move(out.routeTables);
  s.clusters = std::move(out.clusters);
  // A gateway has no inbound listener; the policies that select it still apply.
  if (!proxy.gateway) {
    s.listeners.push_back(std::move(in.listener));
    for (auto& c : in.clusters) s.clusters.push_back(std::move(c));
  }
  s.outboundTrafficPolicy = out.outboundTrafficPolicy;
  s.authorizationPolicies = std::move(in.authorizationPolicies);
  s.requestAuthentications = std::move(in.requestAuthentications);
  return s;
}

}  // namespace mesh::pilot
