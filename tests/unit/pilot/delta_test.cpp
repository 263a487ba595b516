#include <catch2/catch.hpp>

#include "core/model/delta.h"
#include "core/model/json.h"

using namespace mesh::core::model;

namespace {

Cluster cluster(const std::string& name, std::uint32_t port) {
  Cluster c;
  c.name = name;
  c.port = port;
  return c;
}

Snapshot base() {
  Snapshot s;
  s.version = "1";
  s.clusters = {cluster("a", 80), cluster("b", 80), cluster("c", 80)};
  RouteTable t;
  t.name = "outbound";
  VirtualHost vh;
  vh.name = "a:80";
  vh.domains = {"a"};
  Route r;
  r.route.push_back({"a", 100, {}});
  vh.routes.push_back(r);
  t.virtualHosts.push_back(vh);
  s.routeTables.push_back(t);
  return s;
}

}  // namespace

TEST_CASE("a delta carries only what changed and applies to the same snapshot", "[pilot][delta]") {
  Snapshot from = base();
  Snapshot to = base();
  to.version = "2";
  to.clusters.erase(to.clusters.begin() + 1);  // b removed
  to.clusters[1].port = 81;                    // c changed
  to.clusters.push_back(cluster("d", 80));     // d added
  auto delta = makeDelta(from, to);
  CHECK(delta["clusters"].size() == 2);
  CHECK(delta["removed"]["clusters"] == nlohmann::json{"b"});
  CHECK_FALSE(delta.contains("routeTables"));
  auto applied = applyDelta(from, delta);
  REQUIRE(applied.ok());
  CHECK(toJson(*applied)["clusters"].size() == 3);
  CHECK(applied->version == "2");
  CHECK(applied->findCluster("c")->port == 81);
  CHECK_FALSE(applied->findCluster("b"));
}

TEST_CASE("a delta that breaks a reference is refused and names it", "[pilot][delta]") {
  nlohmann::json delta = {{"version", "2"}, {"removed", {{"clusters", {"a"}}}}};
  auto applied = applyDelta(base(), delta);
  REQUIRE_FALSE(applied.ok());
  CHECK(applied.status().message().find("unknown cluster \"a\"") != std::string::npos);
}

TEST_CASE("a malformed delta is an error, not a crash", "[pilot][delta]") {
  for (const auto& bad : {nlohmann::json::array(), nlohmann::json{{"clusters", 3}},
                          nlohmann::json{{"removed", "x"}}, nlohmann::json{{"clusters", {{{"port", "x"}}}}},
                          nlohmann::json{{"clusters", {{{"port", 80}}}}}}) {
    CHECK_FALSE(applyDelta(base(), bad).ok());
  }
}
