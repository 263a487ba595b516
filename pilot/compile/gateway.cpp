#include "pilot/compile/gateway.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>

#include "pilot/compile/gateway_credential.h"
#include "pilot/compile/http_route.h"
#include "pilot/compile/scope.h"
#include "pilot/registry/spec_access.h"

namespace mesh::pilot {

using core::config::Resource;
using core::model::Listener;
using core::model::Route;
using core::model::RouteTable;
using core::model::VirtualHost;
using nlohmann::json;

namespace {

// "*" covers all; "*.example.com" covers any name (or narrower wildcard) ending in
// ".example.com"; else only the name itself.
bool covers(const std::string& pattern, const std::string& host) {
  if (pattern == "*" || pattern == host) return true;
  return pattern.starts_with("*.") && host.size() > pattern.size() - 1 &&
         host.ends_with(std::string_view(pattern).substr(1));
}

// One entry of a server's `hosts`: "ns/host", "./host" (the Gateway's namespace), "*/host"
// or a bare "host" (any namespace). `ns` is which VirtualServices it admits.
struct ServerHost {
  std::string ns;
  std::string host;
};

std::vector<ServerHost> serverHosts(const json& server, const std::string& gatewayNs) {
  std::vector<ServerHost> out;
  for (const auto& entry : specStrings(server, "hosts")) {
    auto slash = entry.find('/');
    if (slash == std::string::npos) {
      out.push_back({"*", entry});
      continue;
    }
    std::string ns = entry.substr(0, slash);
    if (ns == ".") ns = gatewayNs;
    out.push_back({ns, entry.substr(slash + 1)});
  }
  return out;
}

// A server of a selected Gateway, and its TLS termination when it has one.
struct BoundServer {
  const Resource* gateway;
  const json* server;
  std::optional<core::model::ServerTls> tls;
  bool tcp = false;  // protocol TCP: forwarded whole to one destination
  bool passthrough = false;  // HTTPS or TLS, mode PASSTHROUGH: forwarded by SNI, encrypted
};

// Istio's default mode for an HTTPS or TLS server is PASSTHROUGH.
bool isPassthrough(const json& server, const std::string& protocol) {
  if (protocol != "HTTPS" && protocol != "TLS") return false;
  return specString(specChild(server, "tls"), "mode", "PASSTHROUGH") == "PASSTHROUGH";
}

// An HTTPS server the proxy can terminate: SIMPLE or MUTUAL, with certificate files or with
// a credentialName, a Secret in the gateway's namespace `ns` (gateway_credential.h). Another
// mode is not served (a mode left out is Istio's default, PASSTHROUGH), nor a server whose
// Secret is missing: `mesh analyze` reports that one (IST0101).
std::optional<core::model::ServerTls> terminatedTls(const json& server, const MeshView& view,
                                                    const std::string& ns) {
  const auto& tls = specChild(server, "tls");
  if (!tls.is_object()) return std::nullopt;
  core::model::ServerTls out;
  std::string mode = specString(tls, "mode", "PASSTHROUGH");
  if (mode == "MUTUAL") {
    out.mode = core::model::ServerTls::Mode::mutual;
  } else if (mode != "SIMPLE") {
    return std::nullopt;
  }
  out.credentialName = specString(tls, "credentialName");
  if (!out.credentialName.empty()) {
    auto credential = findGatewayCredential(view, ns, out.credentialName);
    if (!credential) return std::nullopt;
    out.serverCertificatePem = std::move(credential->certificate);
    out.privateKeyPem = std::move(credential->key);
    out.caCertificatesPem = std::move(credential->caCertificates);
    if (out.mode == core::model::ServerTls::Mode::mutual && out.caCertificatesPem.empty()) {
      return std::nullopt;
    }
    return out;
  }
  out.serverCertificate = specString(tls, "serverCertificate");
  out.privateKey = specString(tls, "privateKey");
  out.caCertificates = specString(tls, "caCertificates");
  if (out.serverCertificate.empty() || out.privateKey.empty()) return std::nullopt;
  if (out.mode == core::model::ServerTls::Mode::mutual && out.caCertificates.empty()) {
    return std::nullopt;
  }
  return out;
}

bool sameTls(const std::optional<core::model::ServerTls>& a,
             const std::optional<core::model::ServerTls>& b) {
  if (!a || !b) return !a && !b;
  return a->mode == b->mode && a->serverCertificate == b->serverCertificate &&
         a->privateKey == b->privateKey && a->caCertificates == b->caCertificates &&
         a->serverCertificatePem == b->serverCertificatePem &&
         a->privateKeyPem == b->privateKeyPem && a->caCertificatesPem == b->caCertificatesPem;
}

// Whether `server` can share a listener with `first` by presenting its own certificate to
// the clients that ask for its hosts (SNI): it must verify clients the same way.
bool sniCompatible(const std::optional<core::model::ServerTls>& server,
                   const std::optional<core::model::ServerTls>& first) {
  return server && first && server->mode == first->mode &&
         server->caCertificates == first->caCertificates &&
         server->caCertificatesPem == first->caCertificatesPem;
}

// A server's hosts as SNI names: without their "ns/" part.
std::vector<std::string> sniNames(const json& server) {
  std::vector<std::string> out;
  for (const auto& entry : specStrings(server, "hosts")) {
    auto slash = entry.find('/');
    out.push_back(slash == std::string::npos ? entry : entry.substr(slash + 1));
  }
  return out;
}

// Istio resolves a short VirtualService host ("reviews") in the VirtualService's namespace;
// names with dots and wildcards are taken as written.
std::string vsHost(const std::string& host, const std::string& ns, const MeshView& view) {
  if (host.find('.') != std::string::npos || host.find('*') != std::string::npos) return host;
  return view.services().qualify(host, ns);
}

struct GatewayBuilder {
  const MeshView& view;
  const ProxyInfo& proxy;
  Scope scope;
  OutboundConfig out;
  std::set<std::string> clusterNames;
  std::map<std::string, const Service*> visible;  // by host

  void build() {
    // The clusters are a sidecar's of the same scope: same names, subsets, policies and mTLS.
    out.clusters = compileClusters(view, scope);
    out.outboundTrafficPolicy = view.settings().outboundTrafficPolicy;
    for (const auto& c : out.clusters) clusterNames.insert(c.name);
    for (const auto& s : view.services().services()) {
      if (scope.visible(s) && !visible.count(s.host)) visible[s.host] = &s;
    }
    std::map<std::uint32_t, std::vector<BoundServer>> byPort;
    for (const Resource* gw : gatewaysFor(view, proxy.labels)) {
      const auto& servers = specChild(gw->spec, "servers");
      if (!servers.is_array()) continue;
      for (const auto& server : servers) {
        const auto& port = specChild(server, "port");
        std::string protocol = specString(port, "protocol");
        std::transform(protocol.begin(), protocol.end(), protocol.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        std::optional<core::model::ServerTls> tls;
        bool tcp = protocol == "TCP";
        bool passthrough = isPassthrough(server, protocol);
        if (protocol == "HTTPS" && !passthrough) {
          tls = terminatedTls(server, view, proxy.ns);
          if (!tls) continue;
        } else if (protocol != "HTTP" && !tcp && !passthrough) {
          continue;  // AUTO_PASSTHROUGH, ISTIO_MUTUAL and the other protocols: not served yet
        }
        std::uint32_t number = specUint(port, "number");
        if (number != 0)
          byPort[number].push_back({gw, &server, std::move(tls), tcp, passthrough});
      }
    }
    for (const auto& [port, servers] : byPort) addPort(port, servers);
  }

  // The gateway's listener on `port`, named as Istio names it ("<address>_<port>").
  Listener gatewayListener(std::uint32_t port, const char* protocol) const {
    Listener l;
    l.name = proxy.gatewayAddress + "_" + std::to_string(port);
    l.address = proxy.gatewayAddress;
    l.port = port;
    l.direction = Listener::Direction::gateway;
    l.protocol = protocol;
    return l;
  }

  void addPort(std::uint32_t port, const std::vector<BoundServer>& servers) {
    if (servers.front().tcp) return addTcpPort(port, servers);
    if (servers.front().passthrough) return addPassthroughPort(port, servers);
    Listener l = gatewayListener(port, "http");
    // The first server's TLS settings are the listener's. Another server on the port with its
    // own certificate gets it presented to clients asking for its hosts (SNI); one that would
    // verify clients differently, or terminate no TLS at all, is left out.
    const auto& tls = servers.front().tls;
    l.hasTls = tls.has_value();
    if (tls) l.tls = *tls;
    l.routeTable = (tls ? "https." : "http.") + std::to_string(port);
    RouteTable table;
    table.name = l.routeTable;
    std::map<std::string, std::size_t> byDomain;  // index into table.virtualHosts
    for (const auto& bound : servers) {
      // A TCP or PASSTHROUGH server on an HTTP port: Istio's conflict, the first wins.
      if (bound.tcp || bound.passthrough) continue;
      if (!sameTls(bound.tls, tls)) {
        if (!sniCompatible(bound.tls, tls)) continue;
        l.sniCertificates.push_back({sniNames(*bound.server), bound.tls->serverCertificate,
                                     bound.tls->privateKey, bound.tls->serverCertificatePem,
                                     bound.tls->privateKeyPem});
      }
      for (const auto& h : specStrings(*bound.server, "hosts")) {
        if (std::find(l.hosts.begin(), l.hosts.end(), h) == l.hosts.end()) l.hosts.push_back(h);
      }
      addServer(port, bound, table, byDomain);
    }
    out.listeners.push_back(std::move(l));
    out.routeTables.push_back(std::move(table));
  }

  // The VirtualServices bound to this server's Gateway add their routes under each host they
  // share with the server. A host two of them claim gets both route lists, first one first.
  void addServer(std::uint32_t port, const BoundServer& bound, RouteTable& table,
                 std::map<std::string, std::size_t>& byDomain) {
    std::string gatewayName = bound.gateway->ns + "/" + bound.gateway->name;
    auto hosts = serverHosts(*bound.server, bound.gateway->ns);
    const auto& tls = specChild(*bound.server, "tls");
    if (!bound.tls && specChild(tls, "httpsRedirect").is_boolean() &&
        tls["httpsRedirect"].get<bool>()) {
      // Every request is redirected, whatever VirtualServices say, so the server's own hosts
      // are the virtual hosts (Istio needs no VirtualService here either).
      for (const auto& sh : hosts) addRoutes(port, sh.host, redirectToHttps(), table, byDomain);
      return;
    }
    for (const Resource* vs : view.ofKind("VirtualService")) {
      std::vector<std::string> domains = boundHosts(*vs, gatewayName, hosts);
      if (domains.empty()) continue;
      std::vector<Route> routes = convertHttpRoutes(vs->spec, contextFor(*vs, port, gatewayName));
      for (const auto& domain : domains) addRoutes(port, domain, routes, table, byDomain);
    }
  }

  // The hosts a VirtualService serves on a server of Gateway `gatewayName` ("ns/name"): none
  // when it is not exported to the gateway, does not name the Gateway, or shares no host.
  std::vector<std::string> boundHosts(const Resource& vs, const std::string& gatewayName,
                                      const std::vector<ServerHost>& hosts) {
    std::vector<std::string> domains;
    if (!scope.exported(vs)) return domains;
    auto gateways = specStrings(vs.spec, "gateways");
    bool isBound = std::any_of(gateways.begin(), gateways.end(), [&](const std::string& g) {
      return namesGateway(g, vs.ns, gatewayName);
    });
    if (!isBound) return domains;
    for (const auto& written : specStrings(vs.spec, "hosts")) {
      std::string host = vsHost(written, vs.ns, view);
      for (const auto& sh : hosts) {
        if (sh.ns != "*" && sh.ns != vs.ns) continue;
        std::string common = intersectHosts(host, sh.host);
        bool known = std::find(domains.begin(), domains.end(), common) != domains.end();
        if (!common.empty() && !known) domains.push_back(common);
      }
    }
    return domains;
  }

  // A TCP server forwards every connection to one cluster: the heaviest destination of the
  // first `tcp` route, of the first bound VirtualService, whose matches take this port and
  // Gateway. Without one the port is not opened (Istio's listener would drop connections).
  void addTcpPort(std::uint32_t port, const std::vector<BoundServer>& servers) {
    for (const auto& bound : servers) {
      if (!bound.tcp) continue;
      std::string gatewayName = bound.gateway->ns + "/" + bound.gateway->name;
      auto hosts = serverHosts(*bound.server, bound.gateway->ns);
      for (const Resource* vs : view.ofKind("VirtualService")) {
        if (boundHosts(*vs, gatewayName, hosts).empty()) continue;
        std::string cluster = tcpDestination(*vs, port, gatewayName);
        if (cluster.empty()) continue;
        Listener l = gatewayListener(port, "tcp");
        l.cluster = cluster;
        l.hosts = specStrings(*bound.server, "hosts");
        out.listeners.push_back(std::move(l));
        return;
      }
    }
  }

  // PASSTHROUGH servers share a listener that routes each connection by the SNI of its
  // ClientHello: the `tls` routes of the VirtualServices bound to them, in order, each
  // match's sniHosts narrowed to the servers' hosts, to the route's heaviest destination.
  // Without a route the port is not opened.
  void addPassthroughPort(std::uint32_t port, const std::vector<BoundServer>& servers) {
    Listener l = gatewayListener(port, "tls");
    std::vector<std::pair<std::string, std::vector<ServerHost>>> bound;  // gateway, hosts
    for (const auto& server : servers) {
      if (!server.passthrough) continue;
      bound.emplace_back(server.gateway->ns + "/" + server.gateway->name,
                         serverHosts(*server.server, server.gateway->ns));
      for (const auto& h : sniNames(*server.server)) {
        if (std::find(l.hosts.begin(), l.hosts.end(), h) == l.hosts.end()) l.hosts.push_back(h);
      }
    }
    for (const Resource* vs : view.ofKind("VirtualService")) {
      bool isBound = std::any_of(bound.begin(), bound.end(), [&](const auto& b) {
        return !boundHosts(*vs, b.first, b.second).empty();
      });
      if (isBound) addSniRoutes(*vs, port, bound, l.sniRoutes);
    }
    if (!l.sniRoutes.empty()) out.listeners.push_back(std::move(l));
  }

  void addSniRoutes(const Resource& vs, std::uint32_t port,
                    const std::vector<std::pair<std::string, std::vector<ServerHost>>>& bound,
                    std::vector<core::model::SniRoute>& out) {
    const auto& routes = specChild(vs.spec, "tls");
    if (!routes.is_array()) return;
    for (const auto& r : routes) {
      core::model::SniRoute route;
      for (const auto& [gatewayName, hosts] : bound) {
        if (boundHosts(vs, gatewayName, hosts).empty()) continue;
        if (route.cluster.empty()) {
          route.cluster = heaviestDestination(specChild(r, "route"),
                                              contextFor(vs, port, gatewayName));
          if (route.cluster.empty()) break;
        }
        for (const auto& m : specChild(r, "match")) {
          std::uint32_t p = specUint(m, "port");
          auto gateways = specStrings(m, "gateways");
          bool gatewayOk = gateways.empty() ||
                           std::any_of(gateways.begin(), gateways.end(), [&](const auto& g) {
                             return namesGateway(g, vs.ns, gatewayName);
                           });
          if ((p != 0 && p != port) || !gatewayOk) continue;
          for (const auto& sni : specStrings(m, "sniHosts")) {
            for (const auto& sh : hosts) {
              if (sh.ns != "*" && sh.ns != vs.ns) continue;
              std::string common = intersectHosts(sni, sh.host);
              bool known = std::find(route.sniHosts.begin(), route.sniHosts.end(), common) !=
                           route.sniHosts.end();
              if (!common.empty() && !known) route.sniHosts.push_back(common);
            }
          }
        }
      }
      if (!route.cluster.empty() && !route.sniHosts.empty()) out.push_back(std::move(route));
    }
  }

  // The cluster of the heaviest destination in a `route` list; "" without one (or when its
  // host has no cluster).
  std::string heaviestDestination(const json& destinations, const RouteContext& ctx) {
    if (!destinations.is_array()) return "";
    const json* heaviest = nullptr;
    std::uint32_t most = 0;
    for (const auto& d : destinations) {
      std::uint32_t weight = specUint(d, "weight", 100);
      if (!heaviest || weight > most) {
        heaviest = &d;
        most = weight;
      }
    }
    return heaviest ? destinationCluster(specChild(*heaviest, "destination"), ctx) : "";
  }

  std::string tcpDestination(const Resource& vs, std::uint32_t port,
                             const std::string& gatewayName) {
    const auto& routes = specChild(vs.spec, "tcp");
    if (!routes.is_array()) return "";
    RouteContext ctx = contextFor(vs, port, gatewayName);
    for (const auto& r : routes) {
      const auto& matches = specChild(r, "match");
      bool applies = !matches.is_array() || matches.empty();
      for (const auto& m : matches) {
        std::uint32_t p = specUint(m, "port");
        auto gateways = specStrings(m, "gateways");
        bool gatewayOk = gateways.empty() ||
                         std::any_of(gateways.begin(), gateways.end(), [&](const std::string& g) {
                           return namesGateway(g, vs.ns, gatewayName);
                         });
        applies = applies || ((p == 0 || p == port) && gatewayOk);
      }
      if (!applies) continue;
      std::string cluster = heaviestDestination(specChild(r, "route"), ctx);
      if (!cluster.empty()) return cluster;
    }
    return "";
  }

  static void addRoutes(std::uint32_t port, const std::string& domain,
                        const std::vector<Route>& routes, RouteTable& table,
                        std::map<std::string, std::size_t>& byDomain) {
    if (routes.empty()) return;
    auto [it, added] = byDomain.try_emplace(domain, table.virtualHosts.size());
    if (added) {
      VirtualHost vh;
      vh.name = domain + ":" + std::to_string(port);
      vh.domains = {domain};
      table.virtualHosts.push_back(std::move(vh));
    }
    auto& target = table.virtualHosts[it->second].routes;
    target.insert(target.end(), routes.begin(), routes.end());
  }

  RouteContext contextFor(const Resource& vs, std::uint32_t port, const std::string& gatewayName) {
    RouteContext ctx;
    ctx.vsNamespace = vs.ns;
    ctx.virtualService = vs.name + "." + vs.ns;
    ctx.port = port;
    ctx.gateway = gatewayName;
    // A gateway port says nothing about the destination's port: a destination without one
    // needs a host with a single port, as Istio requires.
    ctx.fallbackPort = 0;
    ctx.qualify = [&, ns = vs.ns](const std::string& h) { return view.services().qualify(h, ns); };
    ctx.defaultPort = [&](const std::string& h) -> std::uint32_t {
      auto it = visible.find(h);
      return it != visible.end() && it->second->ports.size() == 1 ? it->second->ports[0].number : 0;
    };
    ctx.hasCluster = [&](const std::string& c) { return clusterNames.count(c) > 0; };
    return ctx;
  }

  // A server with tls.httpsRedirect answers every request with a 301 to https.
  static std::vector<Route> redirectToHttps() {
    Route r;
    r.name = "https-redirect";
    core::model::Redirect redirect;
    redirect.scheme = "https";
    redirect.code = 301;
    r.redirect = redirect;
    return {r};
  }
};

}  // namespace

std::string intersectHosts(const std::string& vsHost, const std::string& serverHost) {
  if (covers(serverHost, vsHost)) return vsHost;
  if (covers(vsHost, serverHost)) return serverHost;
  return "";
}

std::vector<const Resource*> gatewaysFor(const MeshView& view, const Labels& labels) {
  std::vector<const Resource*> out;
  for (const Resource* gw : view.ofKind("Gateway")) {
    if (selectorMatches(specLabels(gw->spec, "selector"), labels)) out.push_back(gw);
  }
  return out;
}

std::string gatewayScopeKey(const ProxyInfo& proxy) {
  std::string key = "gateway|" + proxy.ns + "|" + proxy.gatewayAddress;
  for (const auto& [k, v] : proxy.labels) key += "|" + k + "=" + v;
  return key;
}

OutboundConfig compileGateway(const MeshView& view, const ProxyInfo& proxy) {
  GatewayBuilder b{view, proxy, Scope::forGateway(proxy.ns), {}, {}, {}};
  b.build();
  return std::move(b.out);
}

}  // namespace mesh::pilot
