#include "pilot/compile/compiler.h"

namespace mesh::pilot {

core::model::Snapshot compileSnapshot(const MeshView& view, const ProxyInfo& proxy) {
  Scope scope(view, proxy.ns, proxy.labels);
  OutboundConfig out = compileOutbound(view, scope);
  InboundConfig in = compileInbound(view, proxy);
  core::model::Snapshot s;
  s.listeners = std::move(out.listeners);
  s.listeners.push_back(std::move(in.listener));
  s.routeTables = std::move(out.routeTables);
  s.clusters = std::move(out.clusters);
  for (auto& c : in.clusters) s.clusters.push_back(std::move(c));
  s.outboundTrafficPolicy = out.outboundTrafficPolicy;
  s.authorizationPolicies = std::move(in.authorizationPolicies);
  s.requestAuthentications = std::move(in.requestAuthentications);
  return s;
}

}  // namespace mesh::pilot
