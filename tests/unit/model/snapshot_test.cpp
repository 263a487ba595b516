#include <catch2/catch.hpp>

#include <functional>

#include "core/model/snapshot.h"

using namespace mesh::core;
using namespace mesh::core::model;
using nlohmann::json;

namespace {

// A small but complete snapshot: a canary split for reviews with retries and a fault.
json reviewsSnapshot() {
  return json::parse(R"({
    "version": "7",
    "clusters": [
      {"name": "outbound|9080|v1|reviews.default.svc.cluster.local",
       "service": "reviews.default.svc.cluster.local", "port": 9080, "subset": "v1",
       "loadBalancer": {"policy": "LEAST_REQUEST"},
       "pool": {"maxConnections": 10, "maxPendingRequests": 5},
       "outlier": {"consecutive5xxErrors": 3, "baseEjectionTimeMs": 1000},
       "tls": {"mode": "ISTIO_MUTUAL", "identities": ["spiffe://cluster.local/ns/default/sa/reviews"]},
       "endpoints": [{"address": "127.0.0.1", "port": 9081, "labels": {"version": "v1"}}]},
      {"name": "outbound|9080|v2|reviews.default.svc.cluster.local",
       "service": "reviews.default.svc.cluster.local", "port": 9080, "subset": "v2",
       "endpoints": [{"address": "127.0.0.1", "port": 9082}]}
    ],
    "routeTables": [{"name": "9080", "virtualHosts": [{
      "name": "reviews.default.svc.cluster.local:9080",
      "domains": ["reviews", "reviews:9080", "reviews.default.svc.cluster.local"],
      "routes": [
        {"name": "jason", "match": [{"headers": {"end-user": {"kind": "exact", "value": "jason"}}}],
         "route": [{"cluster": "outbound|9080|v2|reviews.default.svc.cluster.local"}],
         "fault": {"abortStatus": 503, "abortPercent": 10}},
        {"route": [{"cluster": "outbound|9080|v1|reviews.default.svc.cluster.local", "weight": 80},
                   {"cluster": "outbound|9080|v2|reviews.default.svc.cluster.local", "weight": 20}],
         "timeoutMs": 500, "retries": {"attempts": 3, "perTryTimeoutMs": 100}}
      ]}]}],
    "listeners": [{"name": "outbound", "port": 15001, "capture": true, "routeTable": "9080"}]
  })");
}

}  // namespace

TEST_CASE("a snapshot reads from JSON with defaults for what it leaves out", "[model]") {
  auto snapshot = parseSnapshot(reviewsSnapshot());
  REQUIRE(snapshot.ok());
  CHECK(snapshot->version == "7");
  const Cluster* v1 = snapshot->findCluster("outbound|9080|v1|reviews.default.svc.cluster.local");
  REQUIRE(v1);
  CHECK(v1->loadBalancer.policy == LoadBalancer::Policy::least_request);
  CHECK(v1->pool.maxConnections == 10);
  CHECK(v1->pool.connectTimeoutMs == 10'000);  // default
  REQUIRE(v1->outlier);
  CHECK(v1->outlier->consecutive5xxErrors == 3);
  CHECK(v1->outlier->intervalMs == 10'000);  // default
  CHECK(v1->tls.mode == UpstreamTls::Mode::istio_mutual);
  CHECK(v1->endpoints.at(0).labels.at("version") == "v1");

  const auto& routes = snapshot->findRouteTable("9080")->virtualHosts.at(0).routes;
  REQUIRE(routes.size() == 2);
  CHECK(routes[0].match.at(0).headers.at("end-user").kind == StringMatch::Kind::exact);
  CHECK(routes[0].fault->abortStatus == 503u);
  CHECK_FALSE(routes[0].fault->delayMs);
  CHECK_FALSE(routes[0].retries);  // no retries block: the proxy applies Istio's default
  CHECK(routes[1].route.at(1).weight == 20);
  CHECK(routes[1].retries->attempts == 3);
  CHECK(routes[1].retries->retryOn.find("connect-failure") != std::string::npos);
  CHECK(snapshot->listeners.at(0).capture);
  CHECK(snapshot->outboundTrafficPolicy == "ALLOW_ANY");
}

TEST_CASE("a snapshot survives a round trip through JSON", "[model]") {
  auto first = parseSnapshot(reviewsSnapshot());
  REQUIRE(first.ok());
  json dumped = toJson(*first);
  auto second = parseSnapshot(dumped);
  REQUIRE(second.ok());
  CHECK(toJson(*second) == dumped);
}

TEST_CASE("a bad snapshot is refused with the place of the mistake", "[model]") {
  struct Case {
    std::function<void(json&)> breakIt;
    std::string expected;
  };
  std::vector<Case> cases = {
      {[](json& j) { j["clusters"][0]["loadBalancer"]["policy"] = "FASTEST"; },
       "clusters[0] (outbound|9080|v1|reviews.default.svc.cluster.local): unknown value \"FASTEST\""},
      {[](json& j) { j["clusters"][1]["port"] = "ninety"; }, "clusters[1]"},
      {[](json& j) { j["clusters"][1]["name"] = ""; }, "clusters[1]: name is required"},
      {[](json& j) { j["clusters"] = json::object(); }, "clusters: must be a list"},
      {[](json& j) { j["clusters"].erase(1); }, "unknown cluster \"outbound|9080|v2|"},
      {[](json& j) { j["listeners"][0]["routeTable"] = "8080"; },
       "listeners (outbound): unknown route table \"8080\""},
      {[](json& j) {
         j["routeTables"][0]["virtualHosts"][0]["routes"][0]["directResponse"] = {{"status", 200}};
       },
       "routes[0]: needs exactly one of route, redirect, directResponse"},
      {[](json& j) { j["clusters"].push_back(j["clusters"][0]); }, "duplicate name"},
      {[](json& j) { j["outboundTrafficPolicy"] = "SOMETIMES"; }, "outboundTrafficPolicy"},
      {[](json& j) { j = json::array(); }, "must be an object"},
  };
  for (auto& c : cases) {
    json j = reviewsSnapshot();
    c.breakIt(j);
    auto snapshot = parseSnapshot(j);
    REQUIRE_FALSE(snapshot.ok());
    CHECK(snapshot.status().code() == Code::invalid);
    CHECK_THAT(snapshot.status().message(), Catch::Contains(c.expected));
  }
}
