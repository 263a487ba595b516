#include "pilot/compile/outbound.h"

#include <set>

#include "pilot/compile/http_route.h"
#include "pilot/compile/traffic_policy.h"
#include "pilot/registry/spec_access.h"

namespace mesh::pilot {

using core::config::Resource;
using core::model::Cluster;

namespace {

struct Builder {
  const MeshView& view;
  const Scope& scope;
  OutboundConfig out;
  std::set<std::string> clusterNames;
  std::map<std::string, const Service*> visible;  // by host

  void addClusters(const Service& s, const ServicePort& port) {
    const Resource* dr = findDestinationRule(view, scope, s);
    Cluster base;
    base.name = clusterName(port.number, "", s.host);
    base.service = s.host;
    base.port = port.number;
    base.protocol = port.protocol;
    base.endpoints = view.services().endpoints(s, port);
    if (dr) base.destinationRule = dr->name + "." + dr->ns;
    bool tlsSet = dr && applyTrafficPolicy(specChild(dr->spec, "trafficPolicy"), port.number, base);
    if (!tlsSet) autoMtls(base);
    push(base);
    if (!dr) return;
    const auto& subsets = specChild(dr->spec, "subsets");
    if (!subsets.is_array()) return;
    for (const auto& subset : subsets) {
      Cluster c = base;
      c.subset = specString(subset, "name");
      c.name = clusterName(port.number, c.subset, s.host);
      Labels labels = specLabels(subset, "labels");
      std::erase_if(c.endpoints, [&](const auto& e) { return !selectorMatches(labels, e.labels); });
      if (applyTrafficPolicy(specChild(subset, "trafficPolicy"), port.number, c)) {
        if (c.tls.mode == core::model::UpstreamTls::Mode::istio_mutual) setIdentities(c);
      }
      push(std::move(c));
    }
  }

  // Istio's auto mTLS: ISTIO_MUTUAL when every endpoint has a sidecar, plain otherwise.
  static void autoMtls(Cluster& c) {
    bool allSidecars = !c.endpoints.empty();
    for (const auto& e : c.endpoints) allSidecars = allSidecars && e.sidecarPort != 0 && !e.identity.empty();
    if (allSidecars) {
      c.tls.mode = core::model::UpstreamTls::Mode::istio_mutual;
      setIdentities(c);
    }
  }

  static void setIdentities(Cluster& c) {
    std::set<std::string> ids;
    for (const auto& e : c.endpoints) {
      if (!e.identity.empty()) ids.insert(e.identity);
    }
    c.tls.identities.assign(ids.begin(), ids.end());
  }

  void push(Cluster c) {
    if (clusterNames.insert(c.name).second) out.clusters.push_back(std::move(c));
  }

  // The names a client may use for this service on `port`, as Istio's per-port virtual
  // hosts accept them.
  std::vector<std::string> domains(const Service& s, const ServicePort& port, bool bare) {
    std::vector<std::string> names{s.host};
    if (s.kind == "Service") {
      names.push_back(s.name);
      names.push_back(s.name + "." + s.ns);
      names.push_back(s.name + "." + s.ns + ".svc");
    }
    for (const auto& a : s.addresses) names.push_back(a);
    std::vector<std::string> out;
    for (const auto& n : names) {
      out.push_back(n + ":" + std::to_string(port.number));
      if (bare) out.push_back(n);
    }
    return out;
  }

  const Resource* virtualServiceFor(const Service& s) {
    for (const Resource* vs : view.ofKind("VirtualService")) {
      if (!scope.exported(*vs)) continue;
      auto gateways = specStrings(vs->spec, "gateways");
      if (!gateways.empty() && std::find(gateways.begin(), gateways.end(), "mesh") == gateways.end()) {
        continue;
      }
      for (const auto& h : specStrings(vs->spec, "hosts")) {
        if (hostMatches(view.services().qualify(h, vs->ns), s.host)) return vs;
      }
    }
    return nullptr;
  }

  core::model::VirtualHost virtualHost(const Service& s, const ServicePort& port, bool bare) {
    core::model::VirtualHost vh;
    vh.name = s.host + ":" + std::to_string(port.number);
    vh.domains = domains(s, port, bare);
    const Resource* vs = virtualServiceFor(s);
    if (vs) {
      RouteContext ctx;
      ctx.vsNamespace = vs->ns;
      ctx.virtualService = vs->name + "." + vs->ns;
      ctx.port = port.number;
      ctx.fallbackPort = port.number;
      ctx.qualify = [&, ns = vs->ns](const std::string& h) { return view.services().qualify(h, ns); };
      ctx.defaultPort = [&](const std::string& h) -> std::uint32_t {
        auto it = visible.find(h);
        return it != visible.end() && it->second->ports.size() == 1 ? it->second->ports[0].number : 0;
      };
      ctx.hasCluster = [&](const std::string& c) { return clusterNames.count(c) > 0; };
      vh.routes = convertHttpRoutes(vs->spec, ctx);
    }
    if (vh.routes.empty()) {
      core::model::Route route;
      route.name = "default";
      route.route.push_back({clusterName(port.number, "", s.host), 100, {}});
      vh.routes.push_back(std::move(route));
    }
    return vh;
  }

  void buildClusters() {
    for (const auto& s : view.services().services()) {
      if (!scope.visible(s) || visible.count(s.host)) continue;
      visible[s.host] = &s;
      for (const auto& port : s.ports) addClusters(s, port);
    }
  }

  void build() {
    buildClusters();
    core::model::RouteTable table;
    table.name = "outbound";
    for (const auto& [host, s] : visible) {
      std::size_t httpPorts = 0;
      for (const auto& p : s->ports) httpPorts += p.protocol == "http";
      for (const auto& port : s->ports) {
        if (port.protocol == "http") {
          bool bare = port.number == 80 || httpPorts == 1;
          table.virtualHosts.push_back(virtualHost(*s, port, bare));
        } else if (!s->addresses.empty()) {
          core::model::Listener l;
          l.name = s->addresses.front() + "_" + std::to_string(port.number);
          l.address = s->addresses.front();
          l.port = port.number;
          l.protocol = "tcp";
          l.cluster = clusterName(port.number, "", s->host);
          out.listeners.push_back(std::move(l));
        }
      }
    }
    out.routeTables.push_back(std::move(table));
    core::model::Listener capture;
    capture.name = "virtualOutbound";
    capture.address = "0.0.0.0";
    capture.port = view.settings().outboundCapturePort;
    capture.capture = true;
    capture.routeTable = "outbound";
    out.listeners.insert(out.listeners.begin(), std::move(capture));
    out.outboundTrafficPolicy = view.settings().outboundTrafficPolicy;
    if (const Resource* sc = scope.sidecar()) {
      std::string mode = specString(specChild(sc->spec, "outboundTrafficPolicy"), "mode");
      if (!mode.empty()) out.outboundTrafficPolicy = mode;
    }
  }
};

}  // namespace

OutboundConfig compileOutbound(const MeshView& view, const Scope& scope) {
  Builder b{view, scope, {}, {}, {}};
  b.build();
  return std::move(b.out);
}

std::vector<Cluster> compileClusters(const MeshView& view, const Scope& scope) {
  Builder b{view, scope, {}, {}, {}};
  b.buildClusters();
  return std::move(b.out.clusters);
}

}  // namespace mesh::pilot
