// The gateway compile (pilot/compile/gateway.h): which Gateways select a gateway proxy, which
// VirtualServices bind to them, how hosts intersect, and what the listeners look like.
#include <catch2/catch.hpp>

#include <set>

#include "core/tls/spiffe.h"
#include "pilot/compile/gateway.h"
#include "pilot/server/hello.h"
#include "tests/unit/pilot/pilot_fixture.h"

using namespace mesh;
using core::model::Listener;

namespace {

// A backend "web" (one HTTP port) and "api" (two ports) with one sidecar pod each.
const std::string kServices = R"(apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {selector: {app: web}, ports: [{port: 80, name: http, targetPort: 9080}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: prod}
spec: {selector: {app: api}, ports: [{port: 80, name: http}, {port: 8080, name: http-admin}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: web, namespace: default}
spec:
  host: web
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
)";

std::vector<pilot::Workload> pods() {
  return {test::podOf("web-v1", "default", "web", {{"app", "web"}, {"version", "v1"}}, "10.0.0.1"),
          test::podOf("web-v2", "default", "web", {{"app", "web"}, {"version", "v2"}}, "10.0.0.2"),
          test::podOf("api", "prod", "api", {{"app", "api"}}, "10.0.0.3", 80)};
}

pilot::ProxyInfo ingress(pilot::Labels labels = {{"istio", "ingressgateway"}}) {
  pilot::ProxyInfo p = test::proxyOf("istio-system", std::move(labels), {});
  p.serviceAccount = "istio-ingressgateway-service-account";
  p.identity = "spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account";
  p.gateway = true;
  p.gatewayAddress = "127.0.0.1";
  return p;
}

core::model::Snapshot compile(const std::string& yaml, const pilot::ProxyInfo& proxy = ingress()) {
  auto view = test::viewOf(test::configFrom(kServices + "---\n" + yaml), pods());
  auto s = pilot::compileSnapshot(*view, proxy);
  // What the proxy does with it: JSON round trip and the reference checks.
  auto parsed = core::model::parseSnapshot(core::model::toJson(s));
  INFO(parsed.status().toString());
  REQUIRE(parsed.ok());
  return s;
}

const Listener* listenerOn(const core::model::Snapshot& s, std::uint32_t port) {
  for (const auto& l : s.listeners) {
    if (l.port == port) return &l;
  }
  return nullptr;
}

const core::model::RouteTable* table(const core::model::Snapshot& s, std::uint32_t port) {
  const Listener* l = listenerOn(s, port);
  return l ? s.findRouteTable(l->routeTable) : nullptr;
}

std::set<std::string> domainsOn(const core::model::Snapshot& s, std::uint32_t port) {
  std::set<std::string> out;
  if (const auto* t = table(s, port)) {
    for (const auto& vh : t->virtualHosts) out.insert(vh.domains.begin(), vh.domains.end());
  }
  return out;
}

const core::model::VirtualHost* vhostFor(const core::model::Snapshot& s, std::uint32_t port,
                                          const std::string& domain) {
  const auto* t = table(s, port);
  if (!t) return nullptr;
  for (const auto& vh : t->virtualHosts) {
    for (const auto& d : vh.domains) {
      if (d == domain) return &vh;
    }
  }
  return nullptr;
}

const std::string kGateway = R"(apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: web-gateway, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8080, name: http, protocol: HTTP}
    hosts: ["*"]
)";

}  // namespace

TEST_CASE("intersectHosts keeps the more specific of two names, as Istio does", "[pilot][gateway]") {
  CHECK(pilot::intersectHosts("*", "*") == "*");
  CHECK(pilot::intersectHosts("*", "shop.example.com") == "shop.example.com");
  CHECK(pilot::intersectHosts("shop.example.com", "*") == "shop.example.com");
  CHECK(pilot::intersectHosts("shop.example.com", "*.example.com") == "shop.example.com");
  CHECK(pilot::intersectHosts("*.example.com", "shop.example.com") == "shop.example.com");
  CHECK(pilot::intersectHosts("*.a.example.com", "*.example.com") == "*.a.example.com");
  CHECK(pilot::intersectHosts("*.example.com", "*.a.example.com") == "*.a.example.com");
  CHECK(pilot::intersectHosts("example.com", "*.example.com") == "");
  CHECK(pilot::intersectHosts("shop.example.org", "*.example.com") == "");
  CHECK(pilot::intersectHosts("a.com", "b.com") == "");
}

TEST_CASE("a gateway proxy gets a listener per Gateway port on its address, routes from the "
          "bound VirtualService, and the sidecars' clusters", "[pilot][gateway]") {
  auto s = compile(kGateway + R"(---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: default}
spec:
  hosts: ["*"]
  gateways: [web-gateway]
  http:
  - match: [{headers: {x-canary: {exact: "yes"}}}]
    route: [{destination: {host: web, subset: v2}}]
  - route:
    - {destination: {host: web, subset: v1}, weight: 90}
    - {destination: {host: web, subset: v2}, weight: 10}
    timeout: 3s
    retries: {attempts: 4, retryOn: 5xx}
)");
  // Only the gateway listener: no inbound and no capture listener.
  REQUIRE(s.listeners.size() == 1);
  const Listener& l = s.listeners[0];
  CHECK(l.direction == Listener::Direction::gateway);
  CHECK(l.address == "127.0.0.1");
  CHECK(l.port == 8080);
  CHECK(l.protocol == "http");
  CHECK_FALSE(l.capture);
  CHECK(l.hosts == std::vector<std::string>{"*"});
  REQUIRE(l.routeTable == "http.8080");
  const auto* vh = vhostFor(s, 8080, "*");
  REQUIRE(vh);
  REQUIRE(vh->routes.size() == 2);
  CHECK(vh->routes[0].match[0].headers.at("x-canary").value == "yes");
  CHECK(vh->routes[0].route[0].cluster == "outbound|80|v2|web.default.svc.cluster.local");
  const auto& split = vh->routes[1].route;
  REQUIRE(split.size() == 2);
  CHECK(split[0].cluster == "outbound|80|v1|web.default.svc.cluster.local");
  CHECK(split[0].weight == 90);
  CHECK(split[1].weight == 10);
  CHECK(vh->routes[1].timeoutMs == 3000);
  CHECK(vh->routes[1].retries->attempts == 4);
  // The subset cluster is the sidecars' one: ISTIO_MUTUAL to the v2 pod's sidecar.
  const auto* v2 = s.findCluster("outbound|80|v2|web.default.svc.cluster.local");
  REQUIRE(v2);
  REQUIRE(v2->endpoints.size() == 1);
  CHECK(v2->endpoints[0].address == "10.0.0.2");
  CHECK(v2->tls.mode == core::model::UpstreamTls::Mode::istio_mutual);
  CHECK(v2->tls.identities == std::vector<std::string>{"spiffe://cluster.local/ns/default/sa/web"});
}

TEST_CASE("a Gateway applies only to gateway proxies whose labels its selector matches",
          "[pilot][gateway]") {
  std::string yaml = kGateway + R"(---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: internal, namespace: prod}
spec:
  selector: {istio: internalgateway}
  servers:
  - port: {number: 9000, name: http, protocol: HTTP}
    hosts: ["*"]
)";
  // The selector is matched in any namespace: the ingress in istio-system takes default's Gateway.
  auto ingressSnapshot = compile(yaml);
  REQUIRE(ingressSnapshot.listeners.size() == 1);
  CHECK(ingressSnapshot.listeners[0].port == 8080);
  auto internal = compile(yaml, ingress({{"istio", "internalgateway"}, {"app", "gw"}}));
  REQUIRE(internal.listeners.size() == 1);
  CHECK(internal.listeners[0].port == 9000);
  CHECK(compile(yaml, ingress({{"app", "other"}})).listeners.empty());
  // A sidecar with the same labels is not a gateway: it gets its usual listeners.
  auto sidecar = test::proxyOf("istio-system", {{"istio", "ingressgateway"}});
  auto plain = compile(yaml, sidecar);
  for (const auto& listener : plain.listeners) CHECK(listener.direction != Listener::Direction::gateway);
}

TEST_CASE("VirtualServices bind a Gateway by name in their namespace or by ns/name",
          "[pilot][gateway]") {
  auto s = compile(kGateway + R"(---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: same-ns, namespace: default}
spec:
  hosts: [same.example.com]
  gateways: [web-gateway]
  http: [{route: [{destination: {host: web}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: qualified, namespace: prod}
spec:
  hosts: [qualified.example.com]
  gateways: [default/web-gateway]
  http: [{route: [{destination: {host: api, port: {number: 80}}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: wrong-ns, namespace: prod}
spec:
  hosts: [wrong.example.com]
  gateways: [web-gateway]
  http: [{route: [{destination: {host: api, port: {number: 80}}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: mesh-only, namespace: default}
spec:
  hosts: [web, mesh.example.com]
  http: [{route: [{destination: {host: web}}]}]
)");
  // wrong-ns names prod/web-gateway, which does not exist; mesh-only binds no Gateway.
  CHECK(domainsOn(s, 8080) == std::set<std::string>{"same.example.com", "qualified.example.com"});
  const auto* api = vhostFor(s, 8080, "qualified.example.com");
  REQUIRE(api);
  CHECK(api->routes[0].route[0].cluster == "outbound|80||api.prod.svc.cluster.local");
}

TEST_CASE("server hosts narrow VirtualService hosts, with wildcards and namespaces",
          "[pilot][gateway]") {
  auto s = compile(R"(apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*.example.com", "prod/api.example.org", "./own.example.net"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: catch-all, namespace: default}
spec:
  hosts: ["*"]
  gateways: [istio-system/edge]
  http: [{route: [{destination: {host: web}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop, namespace: default}
spec:
  hosts: [shop.example.com, shop.example.org]
  gateways: [istio-system/edge]
  http: [{route: [{destination: {host: web, subset: v2}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api, namespace: prod}
spec:
  hosts: ["*.example.org"]
  gateways: [istio-system/edge]
  http: [{route: [{destination: {host: api, port: {number: 8080}}}]}]
)");
  // catch-all (default) gets the server's hosts open to any namespace: "*.example.com" only,
  // not prod's api.example.org nor istio-system's own.example.net.
  CHECK(domainsOn(s, 80) == std::set<std::string>{"*.example.com", "shop.example.com", "api.example.org"});
  CHECK(vhostFor(s, 80, "*.example.com")->routes[0].route[0].cluster ==
        "outbound|80||web.default.svc.cluster.local");
  // The more specific name gets its own virtual host; shop.example.org is not served.
  CHECK(vhostFor(s, 80, "shop.example.com")->routes[0].route[0].cluster ==
        "outbound|80|v2|web.default.svc.cluster.local");
  CHECK(vhostFor(s, 80, "api.example.org")->routes[0].route[0].cluster ==
        "outbound|8080||api.prod.svc.cluster.local");
  REQUIRE(s.listeners.size() == 1);
  CHECK(s.listeners[0].hosts.size() == 3);
}

TEST_CASE("servers on one port share a listener; httpsRedirect answers 301; HTTPS with files "
          "and SNI",
          "[pilot][gateway]") {
  auto s = compile(R"(apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: a, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8080, name: http, protocol: HTTP}
    hosts: [a.example.com]
  - port: {number: 8443, name: https, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLE, serverCertificate: /etc/cert.pem, privateKey: /etc/key.pem}
  - port: {number: 9443, name: https-secret, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLE, credentialName: a-cert}
  - port: {number: 9444, name: passthrough, protocol: TLS}
    hosts: [a.example.com]
    tls: {mode: PASSTHROUGH}
  - port: {number: 9445, name: https-no-mode, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {serverCertificate: /etc/cert.pem, privateKey: /etc/key.pem}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: b, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8080, name: http-b, protocol: http}
    hosts: [b.example.com]
    tls: {httpsRedirect: true}
  - port: {number: 8443, name: https-b, protocol: HTTPS}
    hosts: [default/b.example.com]
    tls: {mode: SIMPLE, serverCertificate: /etc/b-cert.pem, privateKey: /etc/b-key.pem}
  - port: {number: 8443, name: https-c, protocol: HTTPS}
    hosts: [c.example.com]
    tls: {mode: MUTUAL, serverCertificate: /etc/c-cert.pem, privateKey: /etc/c-key.pem,
          caCertificates: /etc/clients.pem}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: both, namespace: default}
spec:
  hosts: [a.example.com, b.example.com]
  gateways: [a, b]
  http: [{route: [{destination: {host: web}}]}]
)");
  // credentialName naming no Secret and TLS passthrough (also Istio's default mode) are not
  // served.
  REQUIRE(s.listeners.size() == 2);
  const Listener* plain = listenerOn(s, 8080);
  REQUIRE(plain);
  CHECK_FALSE(plain->hasTls);
  CHECK(plain->routeTable == "http.8080");
  CHECK(plain->hosts == std::vector<std::string>{"a.example.com", "b.example.com"});
  CHECK(domainsOn(s, 8080) == std::set<std::string>{"a.example.com", "b.example.com"});
  const auto* b = vhostFor(s, 8080, "b.example.com");
  REQUIRE(b);
  REQUIRE(b->routes.size() == 1);
  REQUIRE(b->routes[0].redirect);
  CHECK(b->routes[0].redirect->scheme == "https");
  CHECK(b->routes[0].redirect->code == 301);
  CHECK(vhostFor(s, 8080, "a.example.com")->routes[0].route.size() == 1);
  // 8443 terminates TLS with the first server's files; b's server has its own certificate,
  // presented to clients that ask for b.example.com; c's would verify clients differently,
  // so it is left out.
  const Listener* tls = listenerOn(s, 8443);
  REQUIRE(tls);
  REQUIRE(tls->hasTls);
  CHECK(tls->routeTable == "https.8443");
  CHECK(tls->tls.mode == core::model::ServerTls::Mode::simple);
  CHECK(tls->tls.serverCertificate == "/etc/cert.pem");
  CHECK(tls->tls.privateKey == "/etc/key.pem");
  REQUIRE(tls->sniCertificates.size() == 1);
  CHECK(tls->sniCertificates[0].hosts == std::vector<std::string>{"b.example.com"});
  CHECK(tls->sniCertificates[0].serverCertificate == "/etc/b-cert.pem");
  CHECK(tls->sniCertificates[0].privateKey == "/etc/b-key.pem");
  CHECK(domainsOn(s, 8443) == std::set<std::string>{"a.example.com", "b.example.com"});
  CHECK(vhostFor(s, 8443, "a.example.com")->routes[0].route[0].cluster ==
        "outbound|80||web.default.svc.cluster.local");
}

TEST_CASE("a credentialName is served from the Secret in the gateway's namespace",
          "[pilot][gateway]") {
  auto s = compile(R"(apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: a, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8443, name: https, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLE, credentialName: a-cert}
  - port: {number: 9443, name: https-mutual, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: MUTUAL, credentialName: generic}
  - port: {number: 9444, name: https-elsewhere, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLE, credentialName: in-default}
---
apiVersion: v1
kind: Secret
metadata: {name: a-cert, namespace: istio-system}
type: kubernetes.io/tls
data: {tls.crt: Y2hhaW4tcGVt, tls.key: a2V5LXBlbQ==}
---
apiVersion: v1
kind: Secret
metadata: {name: generic, namespace: istio-system}
stringData: {cert: generic-chain, key: generic-key}
---
apiVersion: v1
kind: Secret
metadata: {name: generic-cacert, namespace: istio-system}
data: {cacert: Y2EtcGVt}
---
apiVersion: v1
kind: Secret
metadata: {name: in-default, namespace: default}
stringData: {tls.crt: x, tls.key: y}
)");
  // A TLS Secret's data, decoded.
  const Listener* simple = listenerOn(s, 8443);
  REQUIRE(simple);
  REQUIRE(simple->hasTls);
  CHECK(simple->tls.credentialName == "a-cert");
  CHECK(simple->tls.serverCertificatePem == "chain-pem");
  CHECK(simple->tls.privateKeyPem == "key-pem");
  CHECK(simple->tls.serverCertificate.empty());
  // A generic Secret, with the clients' CA from "<name>-cacert".
  const Listener* mutual = listenerOn(s, 9443);
  REQUIRE(mutual);
  CHECK(mutual->tls.mode == core::model::ServerTls::Mode::mutual);
  CHECK(mutual->tls.serverCertificatePem == "generic-chain");
  CHECK(mutual->tls.privateKeyPem == "generic-key");
  CHECK(mutual->tls.caCertificatesPem == "ca-pem");
  // A Secret of another namespace than the gateway's is not the gateway's to read.
  CHECK_FALSE(listenerOn(s, 9444));
  // What a proxy shows of its config never holds the key.
  std::string shown = core::model::toRedactedJson(s).dump();
  CHECK(shown.find("key-pem") == std::string::npos);
  CHECK(shown.find("generic-key") == std::string::npos);
  CHECK(shown.find("chain-pem") != std::string::npos);
}

TEST_CASE("match-level gateways and ports pick the routes of a gateway listener",
          "[pilot][gateway]") {
  auto s = compile(kGateway + R"(---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: default}
spec:
  hosts: [web, web.example.com]
  gateways: [mesh, web-gateway]
  http:
  - match: [{gateways: [mesh]}]
    fault: {abort: {httpStatus: 418}}
    route: [{destination: {host: web}}]
  - match: [{port: 9999}]
    route: [{destination: {host: web, subset: v1}}]
  - match: [{gateways: [default/web-gateway], port: 8080, uri: {prefix: /v2}}]
    route: [{destination: {host: web, subset: v2}}]
  - route: [{destination: {host: web, subset: v1}}]
)");
  const auto* vh = vhostFor(s, 8080, "web.example.com");
  REQUIRE(vh);
  REQUIRE(vh->routes.size() == 2);
  CHECK(vh->routes[0].match[0].uri->value == "/v2");
  CHECK(vh->routes[1].match.empty());
  // The short name "web" is web.default.svc.cluster.local: "*" covers it too.
  CHECK(vhostFor(s, 8080, "web.default.svc.cluster.local"));
  // Sidecars still get the mesh route first.
  auto sidecar = compile(kGateway + R"(---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: default}
spec:
  hosts: [web]
  gateways: [mesh, web-gateway]
  http:
  - match: [{gateways: [mesh]}]
    fault: {abort: {httpStatus: 418}}
    route: [{destination: {host: web}}]
  - match: [{gateways: [web-gateway]}]
    route: [{destination: {host: web, subset: v2}}]
)", test::proxyOf("default", {{"app", "client"}}));
  const auto* mesh = test::vhostNamed(sidecar, "web.default.svc.cluster.local:80");
  REQUIRE(mesh);
  REQUIRE(mesh->routes.size() == 1);
  CHECK(mesh->routes[0].fault->abortStatus == 418u);
}

TEST_CASE("a root-namespace Sidecar does not narrow a gateway; exportTo still applies",
          "[pilot][gateway]") {
  auto s = compile(kGateway + R"(---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: istio-system}
spec:
  egress: [{hosts: ["./*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: default}
spec:
  hosts: [web.example.com]
  gateways: [web-gateway]
  http: [{route: [{destination: {host: web}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: hidden, namespace: default}
spec:
  hosts: [hidden.example.com]
  gateways: [web-gateway]
  exportTo: ["."]
  http: [{route: [{destination: {host: web}}]}]
)");
  const auto* vh = vhostFor(s, 8080, "web.example.com");
  REQUIRE(vh);
  CHECK(vh->routes[0].route.size() == 1);
  CHECK(s.findCluster("outbound|80||web.default.svc.cluster.local"));
  // A VirtualService exported only to its own namespace is not the gateway's to serve.
  CHECK_FALSE(vhostFor(s, 8080, "hidden.example.com"));
}

TEST_CASE("hello carries gateway mode and a checked gateway address", "[pilot][gateway]") {
  auto peer = core::SpiffeId::parse(
      "spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account");
  REQUIRE(peer.ok());
  nlohmann::json m = {{"type", "hello"},
                      {"node", "ingress.istio-system"},
                      {"namespace", "istio-system"},
                      {"service_account", "istio-ingressgateway-service-account"},
                      {"labels", {{"istio", "ingressgateway"}}},
                      {"gateway", true},
                      {"gateway_address", "127.0.0.1"}};
  auto hello = pilot::parseHello(m, *peer);
  REQUIRE(hello.ok());
  CHECK(hello->proxy.gateway);
  CHECK(hello->proxy.gatewayAddress == "127.0.0.1");
  m.erase("gateway_address");
  CHECK(pilot::parseHello(m, *peer)->proxy.gatewayAddress == "0.0.0.0");
  m["gateway_address"] = "example.com";
  CHECK(pilot::parseHello(m, *peer).status().code() == core::Code::invalid);
  m["gateway_address"] = "::1";
  CHECK(pilot::parseHello(m, *peer).ok());
  m["gateway"] = "yes";
  CHECK(pilot::parseHello(m, *peer).status().code() == core::Code::invalid);
}

TEST_CASE("Bookinfo's gateway: port 8080, every host, the product page's paths",
          "[pilot][gateway]") {
  const std::string data = MESH_PILOT_TESTDATA;
  auto config = test::configFromPaths({data + "/platform/kube/bookinfo.yaml",
                                       data + "/networking/destination-rule-all.yaml",
                                       data + "/networking/bookinfo-gateway.yaml"});
  auto view = test::viewOf(config, {test::podOf("productpage-v1", "default", "bookinfo-productpage",
                                                {{"app", "productpage"}, {"version", "v1"}},
                                                "10.0.0.6")});
  auto s = pilot::compileSnapshot(*view, ingress());
  REQUIRE(core::model::parseSnapshot(core::model::toJson(s)).ok());
  REQUIRE(s.listeners.size() == 1);
  CHECK(s.listeners[0].name == "127.0.0.1_8080");
  CHECK(s.listeners[0].port == 8080);
  const auto* vh = vhostFor(s, 8080, "*");
  REQUIRE(vh);
  REQUIRE(vh->routes.size() == 1);
  CHECK(vh->routes[0].match.size() == 5);
  REQUIRE(vh->routes[0].route.size() == 1);
  CHECK(vh->routes[0].route[0].cluster == "outbound|9080||productpage.default.svc.cluster.local");
  const auto* productpage = s.findCluster("outbound|9080||productpage.default.svc.cluster.local");
  REQUIRE(productpage);
  CHECK(productpage->tls.mode == core::model::UpstreamTls::Mode::istio_mutual);
}

TEST_CASE("a TCP server forwards to the heaviest destination of the bound tcp route",
          "[pilot][gateway]") {
  auto s = compile(R"(apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: tcp-gateway, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 31400, name: tcp, protocol: TCP}
    hosts: ["*"]
  - port: {number: 31401, name: tcp-unrouted, protocol: TCP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: db, namespace: default}
spec:
  hosts: [db.example.internal]
  ports: [{number: 5432, name: tcp-db, protocol: TCP}]
  resolution: STATIC
  endpoints: [{address: 10.0.0.9}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db, namespace: default}
spec:
  hosts: ["*"]
  gateways: [tcp-gateway]
  tcp:
  - match: [{port: 31400}]
    route:
    - {destination: {host: web, port: {number: 80}}, weight: 20}
    - {destination: {host: db.example.internal, port: {number: 5432}}, weight: 80}
)");
  // 31401 has no tcp route: it is not opened.
  REQUIRE(s.listeners.size() == 1);
  const Listener& l = s.listeners[0];
  CHECK(l.port == 31400);
  CHECK(l.protocol == "tcp");
  CHECK(l.direction == Listener::Direction::gateway);
  CHECK(l.cluster == "outbound|5432||db.example.internal");
  const auto* db = s.findCluster(l.cluster);
  REQUIRE(db);
  REQUIRE(db->endpoints.size() == 1);
  CHECK(db->endpoints[0].address == "10.0.0.9");
}

TEST_CASE("PASSTHROUGH servers route by SNI to the bound tls routes, in order",
          "[pilot][gateway]") {
  // Istio's "ingress gateway without TLS termination", with a second host on the port, a
  // server whose mode is left out (PASSTHROUGH by default) and one with no route.
  auto s = compile(R"(apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: tls-gateway, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [nginx.example.com]
    tls: {mode: PASSTHROUGH}
  - port: {number: 443, name: tls-shop, protocol: TLS}
    hosts: ["*.shop.example.com"]
  - port: {number: 8443, name: tls-unrouted, protocol: TLS}
    hosts: [nobody.example.com]
    tls: {mode: PASSTHROUGH}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: backends, namespace: default}
spec:
  hosts: [nginx.example.internal, shop.example.internal]
  ports: [{number: 443, name: tls, protocol: TLS}]
  resolution: STATIC
  endpoints: [{address: 10.0.0.9}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: passthrough, namespace: default}
spec:
  hosts: [nginx.example.com, "*.shop.example.com"]
  gateways: [tls-gateway]
  tls:
  - match: [{port: 443, sniHosts: [nginx.example.com, other.example.com]}]
    route: [{destination: {host: nginx.example.internal, port: {number: 443}}}]
  - match: [{port: 443, sniHosts: ["*.example.com"]}]
    route:
    - {destination: {host: nginx.example.internal, port: {number: 443}}, weight: 10}
    - {destination: {host: shop.example.internal, port: {number: 443}}, weight: 90}
  - match: [{port: 9999, sniHosts: [nginx.example.com]}]
    route: [{destination: {host: shop.example.internal, port: {number: 443}}}]
)");
  // 8443 has no route for its host: it is not opened.
  REQUIRE(s.listeners.size() == 1);
  const Listener& l = s.listeners[0];
  CHECK(l.port == 443);
  CHECK(l.protocol == "tls");
  CHECK(l.direction == Listener::Direction::gateway);
  CHECK_FALSE(l.hasTls);
  REQUIRE(l.sniRoutes.size() == 2);
  // Narrowed to the servers' hosts: other.example.com is no server's.
  CHECK(l.sniRoutes[0].sniHosts == std::vector<std::string>{"nginx.example.com"});
  CHECK(l.sniRoutes[0].cluster == "outbound|443||nginx.example.internal");
  CHECK(l.sniRoutes[1].sniHosts ==
        std::vector<std::string>{"nginx.example.com", "*.shop.example.com"});
  CHECK(l.sniRoutes[1].cluster == "outbound|443||shop.example.internal");
  CHECK(s.findCluster("outbound|443||shop.example.internal"));
}
