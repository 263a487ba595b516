#include <catch2/catch.hpp>

#include <filesystem>
#include <set>

#include "pilot/compile/inbound.h"
#include "tests/unit/pilot/pilot_fixture.h"

using namespace mesh;
using core::model::MtlsMode;

namespace {

const std::string kData = MESH_PILOT_TESTDATA;

std::string bookinfo() { return kData + "/platform/kube/bookinfo.yaml"; }
std::string networking(const std::string& name) { return kData + "/networking/" + name; }

// One pod per Bookinfo deployment, as their proxies would register.
std::vector<pilot::Workload> bookinfoPods() {
  return {test::podOf("details-v1", "default", "bookinfo-details", {{"app", "details"}, {"version", "v1"}}, "10.0.0.1"),
          test::podOf("ratings-v1", "default", "bookinfo-ratings", {{"app", "ratings"}, {"version", "v1"}}, "10.0.0.2"),
          test::podOf("reviews-v1", "default", "bookinfo-reviews", {{"app", "reviews"}, {"version", "v1"}}, "10.0.0.3"),
          test::podOf("reviews-v2", "default", "bookinfo-reviews", {{"app", "reviews"}, {"version", "v2"}}, "10.0.0.4"),
          test::podOf("reviews-v3", "default", "bookinfo-reviews", {{"app", "reviews"}, {"version", "v3"}}, "10.0.0.5"),
          test::podOf("productpage-v1", "default", "bookinfo-productpage", {{"app", "productpage"}, {"version", "v1"}}, "10.0.0.6")};
}

std::vector<std::string> clustersOf(const core::model::WeightedCluster* begin, std::size_t n) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(begin[i].cluster + "=" + std::to_string(begin[i].weight));
  return out;
}

}  // namespace

TEST_CASE("Bookinfo with every virtual-service sample loads and compiles to a snapshot that checks",
          "[pilot][compile]") {
  int samples = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kData + "/networking")) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with("virtual-service-")) continue;
    ++samples;
    DYNAMIC_SECTION(name) {
      auto config = test::configFromPaths({bookinfo(), networking("destination-rule-all.yaml"), entry.path().string()});
      CHECK(config->skipped.size() == 4);  // the ServiceAccounts: noted, not errors
      auto view = test::viewOf(config, bookinfoPods());
      auto snapshot = pilot::compileSnapshot(*view, test::proxyOf("default", {{"app", "productpage"}, {"version", "v1"}}));
      // What a proxy does with it: the JSON round trip and the reference check.
      auto parsed = core::model::parseSnapshot(core::model::toJson(snapshot));
      INFO(parsed.status().toString());
      REQUIRE(parsed.ok());
      // No route lost its destination (a 503 route would mean an unknown subset).
      for (const auto& table : snapshot.routeTables) {
        for (const auto& vh : table.virtualHosts) {
          for (const auto& r : vh.routes) CHECK_FALSE(r.directResponse.has_value());
        }
      }
    }
  }
  CHECK(samples == 14);
}

TEST_CASE("Bookinfo clusters and routes are named and weighted as Istio does", "[pilot][compile]") {
  auto config = test::configFromPaths({bookinfo(), networking("destination-rule-all.yaml"),
                                       networking("virtual-service-reviews-80-20.yaml")});
  auto view = test::viewOf(config, bookinfoPods());
  auto s = pilot::compileSnapshot(*view, test::proxyOf("default", {{"app", "productpage"}}));

  const auto* v2 = test::clusterNamed(s, "outbound|9080|v2|reviews.default.svc.cluster.local");
  REQUIRE(v2);
  REQUIRE(v2->endpoints.size() == 1);
  CHECK(v2->endpoints[0].address == "10.0.0.4");
  CHECK(v2->tls.mode == core::model::UpstreamTls::Mode::istio_mutual);
  CHECK(v2->tls.identities == std::vector<std::string>{"spiffe://cluster.local/ns/default/sa/bookinfo-reviews"});
  const auto* all = test::clusterNamed(s, "outbound|9080||reviews.default.svc.cluster.local");
  REQUIRE(all);
  CHECK(all->endpoints.size() == 3);
  // For proxy-config's DESTINATION RULE column: the rule that shaped the clusters.
  CHECK(all->destinationRule == "reviews.default");
  CHECK(v2->destinationRule == "reviews.default");
  // A subset no pod has yet exists, empty, so routes to it stay valid.
  const auto* mysql = test::clusterNamed(s, "outbound|9080|v2-mysql|ratings.default.svc.cluster.local");
  REQUIRE(mysql);
  CHECK(mysql->endpoints.empty());

  const auto* reviews = test::vhostNamed(s, "reviews.default.svc.cluster.local:9080");
  REQUIRE(reviews);
  CHECK(std::find(reviews->domains.begin(), reviews->domains.end(), "reviews") != reviews->domains.end());
  CHECK(std::find(reviews->domains.begin(), reviews->domains.end(), "reviews:9080") != reviews->domains.end());
  REQUIRE(reviews->routes.size() == 1);
  CHECK(reviews->routes[0].virtualService == "reviews.default");  // proxy-config shows it
  const auto& route = reviews->routes[0].route;
  CHECK(clustersOf(route.data(), route.size()) ==
        std::vector<std::string>{"outbound|9080|v1|reviews.default.svc.cluster.local=80",
                                 "outbound|9080|v2|reviews.default.svc.cluster.local=20"});
  // Services without a VirtualService get a default route to the whole service.
  const auto* details = test::vhostNamed(s, "details.default.svc.cluster.local:9080");
  REQUIRE(details);
  CHECK(details->routes[0].route[0].cluster == "outbound|9080||details.default.svc.cluster.local");
  CHECK(details->routes[0].virtualService.empty());
}

TEST_CASE("header matches and fault injection are carried over", "[pilot][compile]") {
  auto config = test::configFromPaths({bookinfo(), networking("destination-rule-all.yaml"),
                                       networking("virtual-service-ratings-test-delay.yaml")});
  auto s = pilot::compileSnapshot(*test::viewOf(config), test::proxyOf("default", {}));
  const auto* ratings = test::vhostNamed(s, "ratings.default.svc.cluster.local:9080");
  REQUIRE(ratings);
  REQUIRE(ratings->routes.size() == 2);
  const auto& first = ratings->routes[0];
  REQUIRE(first.match.size() == 1);
  REQUIRE(first.match[0].headers.count("end-user"));
  CHECK(first.match[0].headers.at("end-user").value == "jason");
  REQUIRE(first.fault);
  CHECK(first.fault->delayMs == 7000u);
  CHECK(first.fault->delayPercent == 100.0);
  CHECK(ratings->routes[1].match.empty());
}

TEST_CASE("header names are lower-cased, a JWT claim's name is kept as written", "[pilot][compile]") {
  auto config = test::configFrom(R"(apiVersion: v1
kind: Service
metadata: {name: a, namespace: team}
spec: {ports: [{port: 80, name: http}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: team}
spec:
  hosts: [a]
  http:
  - match: [{headers: {X-User: {exact: jo}, "@request.auth.claims.Groups": {exact: ops}}}]
    route: [{destination: {host: a}}]
)");
  auto s = pilot::compileSnapshot(*test::viewOf(config), test::proxyOf("team", {}));
  const auto* a = test::vhostNamed(s, "a.team.svc.cluster.local:80");
  REQUIRE(a);
  REQUIRE(a->routes[0].match.size() == 1);
  const auto& headers = a->routes[0].match[0].headers;
  CHECK(headers.count("x-user") == 1);
  CHECK(headers.count("@request.auth.claims.Groups") == 1);
}

TEST_CASE("a Sidecar limits the services a proxy receives to its egress hosts", "[pilot][compile]") {
  auto config = test::configFrom(R"(apiVersion: v1
kind: Service
metadata: {name: a, namespace: team}
spec: {ports: [{port: 80, name: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: b, namespace: team}
spec: {ports: [{port: 80, name: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: c, namespace: other}
spec: {ports: [{port: 80, name: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: shared, namespace: istio-system}
spec: {ports: [{port: 80, name: http}]}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: narrow, namespace: team}
spec:
  workloadSelector: {labels: {app: a}}
  egress:
  - hosts: ["./b.team.svc.cluster.local", "istio-system/*"]
)");
  auto view = test::viewOf(config);
  auto names = [](const core::model::Snapshot& s) {
    std::set<std::string> out;
    for (const auto& c : s.clusters) {
      if (c.name.starts_with("outbound")) out.insert(c.service);
    }
    return out;
  };
  auto limited = pilot::compileSnapshot(*view, test::proxyOf("team", {{"app", "a"}}));
  CHECK(names(limited) == std::set<std::string>{"b.team.svc.cluster.local", "shared.istio-system.svc.cluster.local"});
  REQUIRE(limited.routeTables.size() == 1);
  CHECK(limited.routeTables[0].virtualHosts.size() == 2);
  // A workload the Sidecar does not select sees the whole mesh.
  auto everything = pilot::compileSnapshot(*view, test::proxyOf("team", {{"app", "b"}}));
  CHECK(names(everything).size() == 4);
}

TEST_CASE("exportTo hides services and routing from other namespaces", "[pilot][compile]") {
  auto config = test::configFrom(R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: private-api, namespace: team}
spec:
  hosts: [api.example.com]
  exportTo: ["."]
  ports: [{number: 443, name: tls, protocol: TLS}]
  resolution: DNS
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: team}
spec: {ports: [{port: 80, name: http}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web-local, namespace: team}
spec:
  hosts: [web]
  exportTo: ["."]
  http:
  - fault: {abort: {httpStatus: 418, percentage: {value: 100}}}
    route: [{destination: {host: web}}]
)");
  auto view = test::viewOf(config);
  auto inside = pilot::compileSnapshot(*view, test::proxyOf("team", {}));
  auto outside = pilot::compileSnapshot(*view, test::proxyOf("elsewhere", {}));
  CHECK(test::clusterNamed(inside, "outbound|443||api.example.com"));
  CHECK_FALSE(test::clusterNamed(outside, "outbound|443||api.example.com"));
  CHECK(test::vhostNamed(inside, "web.team.svc.cluster.local:80")->routes[0].fault);
  CHECK_FALSE(test::vhostNamed(outside, "web.team.svc.cluster.local:80")->routes[0].fault);
}

TEST_CASE("PeerAuthentication is resolved per workload port, most specific first", "[pilot][compile]") {
  auto config = test::configFrom(R"(apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: relaxed, namespace: legacy}
spec: {mtls: {mode: PERMISSIVE}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: metrics-port, namespace: legacy}
spec:
  selector: {matchLabels: {app: db}}
  mtls: {mode: UNSET}
  portLevelMtls:
    "9090": {mode: DISABLE}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: db-only, namespace: legacy}
spec:
  selector: {matchLabels: {app: db}}
  action: ALLOW
  rules: [{from: [{source: {principals: ["cluster.local/ns/legacy/sa/web"]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: web-only, namespace: legacy}
spec:
  selector: {matchLabels: {app: web}}
)");
  auto view = test::viewOf(config);
  auto db = test::proxyOf("legacy", {{"app", "db"}}, {5432, 9090});
  CHECK(pilot::resolveMtls(*view, db, 5432) == MtlsMode::permissive);  // UNSET: the namespace's
  CHECK(pilot::resolveMtls(*view, db, 9090) == MtlsMode::disable);
  CHECK(pilot::resolveMtls(*view, test::proxyOf("default", {}), 80) == MtlsMode::strict);

  auto s = pilot::compileSnapshot(*view, db);
  REQUIRE(s.authorizationPolicies.size() == 1);
  CHECK(s.authorizationPolicies[0]["name"] == "db-only");
  const core::model::Listener* inbound = nullptr;
  for (const auto& l : s.listeners) {
    if (l.direction == core::model::Listener::Direction::inbound) inbound = &l;
  }
  REQUIRE(inbound);
  REQUIRE(inbound->inboundPorts.size() == 2);
  CHECK(inbound->inboundPorts[1].mtls == MtlsMode::disable);
  CHECK(test::clusterNamed(s, "inbound|5432||"));
}

TEST_CASE("endpoints come from proxies of the service's namespace whose labels match", "[pilot][compile]") {
  auto config = test::configFromPaths({bookinfo()});
  auto pods = bookinfoPods();
  pods.push_back(test::podOf("impostor", "other", "bookinfo-reviews", {{"app", "reviews"}}, "10.9.9.9"));
  pods.push_back(test::podOf("reviews-other-port", "default", "bookinfo-reviews", {{"app", "reviews"}}, "10.0.0.7", 8080));
  auto view = test::viewOf(config, pods);
  const auto* reviews = view->services().find("reviews.default.svc.cluster.local");
  REQUIRE(reviews);
  auto endpoints = view->services().endpoints(*reviews, reviews->ports[0]);
  std::vector<std::string> addresses;
  for (const auto& e : endpoints) addresses.push_back(e.address);
  CHECK(addresses == std::vector<std::string>{"10.0.0.3", "10.0.0.4", "10.0.0.5"});
}

TEST_CASE("a ServiceEntry endpoint's named port sends its traffic to that port", "[pilot][compile]") {
  auto config = test::configFrom(R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: db, namespace: shop}
spec:
  hosts: [db.shop.internal]
  ports: [{number: 5432, name: tcp-pg, protocol: TCP}]
  resolution: STATIC
  endpoints:
  - address: 10.1.2.3
    ports: {tcp-pg: 6432}
)");
  auto view = test::viewOf(config);
  auto snapshot = pilot::compileSnapshot(*view, test::proxyOf("shop", {}));
  const auto* cluster = test::clusterNamed(snapshot, "outbound|5432||db.shop.internal");
  REQUIRE(cluster);
  REQUIRE(cluster->endpoints.size() == 1);
  CHECK(cluster->endpoints[0].address == "10.1.2.3");
  CHECK(cluster->endpoints[0].port == 6432);
}
