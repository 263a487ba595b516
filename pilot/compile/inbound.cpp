#include "pilot/compile/inbound.h"

#include "pilot/registry/spec_access.h"

namespace mesh::pilot {

using core::config::Resource;
using core::model::MtlsMode;

namespace {

// A policy applies to the workload: mesh-wide (root namespace, no selector), namespace-wide
// (no selector) or by selector in the workload's namespace.
enum class Level { none, mesh, ns, workload };

Level levelFor(const MeshView& view, const Resource& r, const ProxyInfo& proxy,
               const char* selectorKey) {
  const auto& selector = specChild(r.spec, selectorKey);
  bool hasSelector = selector.is_object() && !specLabels(selector, "matchLabels").empty();
  if (r.ns == proxy.ns) {
    if (!hasSelector) return Level::ns;
    return selectorMatches(specLabels(selector, "matchLabels"), proxy.labels) ? Level::workload
                                                                             : Level::none;
  }
  if (r.ns == view.settings().rootNamespace && !hasSelector) return Level::mesh;
  return Level::none;
}

std::optional<MtlsMode> modeOf(const std::string& mode) {
  if (mode == "STRICT") return MtlsMode::strict;
  if (mode == "PERMISSIVE") return MtlsMode::permissive;
  if (mode == "DISABLE") return MtlsMode::disable;
  return std::nullopt;  // UNSET or absent: inherit
}

std::string inboundProtocol(const MeshView& view, const ProxyInfo& proxy, std::uint32_t port) {
  for (const auto& s : view.services().services()) {
    if (s.ns != proxy.ns || !s.hasSelector || !selectorMatches(s.selector, proxy.labels)) continue;
    for (const auto& p : s.ports) {
      if ((p.targetPort ? p.targetPort : p.number) == port) return p.protocol;
    }
  }
  return "http";  // an undeclared port is sniffed as HTTP by Istio; HTTP/1 here
}

nlohmann::json selectedPolicies(const MeshView& view, const ProxyInfo& proxy, const char* kind) {
  nlohmann::json out = nlohmann::json::array();
  for (const Resource* r : view.ofKind(kind)) {
    if (levelFor(view, *r, proxy, "selector") == Level::none) continue;
    out.push_back({{"name", r->name}, {"namespace", r->ns}, {"spec", r->spec}});
  }
  return out;
}

}  // namespace

MtlsMode resolveMtls(const MeshView& view, const ProxyInfo& proxy, std::uint32_t port) {
  std::optional<MtlsMode> byLevel[4];
  std::optional<MtlsMode> portLevel;
  for (const Resource* r : view.ofKind("PeerAuthentication")) {
    Level level = levelFor(view, *r, proxy, "selector");
    if (level == Level::none) continue;
    auto mode = modeOf(specString(specChild(r->spec, "mtls"), "mode"));
    auto& slot = byLevel[static_cast<int>(level)];
    if (mode && !slot) slot = mode;
    const auto& ports = specChild(r->spec, "portLevelMtls");
    if (level == Level::workload && ports.is_object()) {
      auto it = ports.find(std::to_string(port));
      if (it != ports.end()) portLevel = modeOf(specString(*it, "mode"));
    }
  }
  if (portLevel) return *portLevel;
  for (int level = 3; level >= 1; --level) {
    if (byLevel[level]) return *byLevel[level];
  }
  return MtlsMode::permissive;
}

InboundConfig compileInbound(const MeshView& view, const ProxyInfo& proxy) {
  InboundConfig out;
  auto& l = out.listener;
  l.name = "virtualInbound";
  l.address = "0.0.0.0";
  l.port = proxy.sidecarPort ? proxy.sidecarPort : view.settings().inboundCapturePort;
  l.direction = core::model::Listener::Direction::inbound;
  l.defaultMtls = resolveMtls(view, proxy, 0);
  for (std::uint32_t port : proxy.ports) {
    core::model::InboundPort ip;
    ip.port = port;
    ip.protocol = inboundProtocol(view, proxy, port);
    ip.cluster = "inbound|" + std::to_string(port) + "||";
    ip.mtls = resolveMtls(view, proxy, port);
    l.inboundPorts.push_back(ip);
    core::model::Cluster c;
    c.name = ip.cluster;
    c.port = port;
    c.protocol = ip.protocol;
    core::model::Endpoint local;
    local.address = "127.0.0.1";
    local.port = port;
    c.endpoints.push_back(std::move(local));
    out.clusters.push_back(std::move(c));
  }
  out.authorizationPolicies = selectedPolicies(view, proxy, "AuthorizationPolicy");
  out.requestAuthentications = selectedPolicies(view, proxy, "RequestAuthentication");
  return out;
}

}  // namespace mesh::pilot
