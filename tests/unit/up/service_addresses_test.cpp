#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "cmd/up/service_addresses.h"
#include "core/config/loader.h"

namespace up = mesh::cmd::up;

namespace {

// Hands out 10.0.1.1, 10.0.1.2, ... and remembers who asked.
struct Allocator {
  std::vector<std::string> asked;
  std::string operator()(const std::string& ns, const std::string& name) {
    asked.push_back(ns + "/" + name);
    return "10.0.1." + std::to_string(asked.size());
  }
};

std::string assign(const std::string& text, Allocator& a) {
  return up::withClusterIps(
      text, [&a](const std::string& ns, const std::string& name) { return a(ns, name); });
}

}  // namespace

TEST_CASE("withClusterIps adds an address under spec of each Service that has none") {
  Allocator a;
  std::string text =
      "# Services\n"
      "apiVersion: v1\n"
      "kind: Service\n"
      "metadata:\n"
      "  name: reviews\n"
      "  labels:\n"
      "    name: not-this-one\n"
      "spec:\n"
      "  ports:\n"
      "  - port: 9080\n"
      "---\n"
      "apiVersion: v1\n"
      "kind: \"Service\"\n"
      "metadata:\n"
      "    namespace: shop   # a comment\n"
      "    name: 'cart'\n"
      "spec:\n"
      "    selector:\n"
      "      app: cart\n";
  std::string out = assign(text, a);
  CHECK(a.asked == std::vector<std::string>{"default/reviews", "shop/cart"});
  CHECK(out ==
        "# Services\n"
        "apiVersion: v1\n"
        "kind: Service\n"
        "metadata:\n"
        "  name: reviews\n"
        "  labels:\n"
        "    name: not-this-one\n"
        "spec:\n"
        "  clusterIP: 10.0.1.1\n"
        "  ports:\n"
        "  - port: 9080\n"
        "---\n"
        "apiVersion: v1\n"
        "kind: \"Service\"\n"
        "metadata:\n"
        "    namespace: shop   # a comment\n"
        "    name: 'cart'\n"
        "spec:\n"
        "    clusterIP: 10.0.1.2\n"
        "    selector:\n"
        "      app: cart\n");
}

TEST_CASE("withClusterIps leaves alone what is not a Service needing an address") {
  Allocator a;
  const std::string untouched[] = {
      // already has one, or headless
      "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  clusterIP: None\n",
      // ExternalName
      "apiVersion: v1\nkind: Service\nmetadata:\n  name: b\nspec:\n  type: ExternalName\n",
      // not core v1
      "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: c\nspec:\n  x: 1\n",
      // another kind
      "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: 1\n",
      // flow style
      "apiVersion: v1\nkind: Service\nmetadata: {name: e}\nspec: {ports: [{port: 80}]}\n",
      // no name
      "apiVersion: v1\nkind: Service\nmetadata:\n  labels: {}\nspec:\n  ports: []\n",
      "",
      "not: [valid yaml\n",
  };
  for (const auto& text : untouched) CHECK(assign(text, a) == text);
  CHECK(a.asked.empty());
}

TEST_CASE("withClusterIps keeps CRLF line ends and its output loads as the same Service") {
  Allocator a;
  std::string text =
      "apiVersion: v1\r\nkind: Service\r\nmetadata:\r\n  name: r\r\nspec:\r\n  ports:\r\n"
      "  - port: 80\r\n";
  std::string out = assign(text, a);
  CHECK(out.find("spec:\r\n  clusterIP: 10.0.1.1\r\n  ports:") != std::string::npos);
  mesh::core::config::LoadResult loaded;
  mesh::core::config::loadText(out, "s.yaml", loaded);
  REQUIRE(loaded.errors.empty());
  REQUIRE(loaded.resources.size() == 1);
  CHECK(loaded.resources[0].spec["clusterIP"] == "10.0.1.1");
  CHECK(loaded.resources[0].spec["ports"][0]["port"] == 80);
}

TEST_CASE("a pod's hosts file names services in full everywhere, short in its namespace") {
  up::ServiceAddresses services = {{"default/reviews", "10.0.1.1"}, {"shop/cart", "10.0.1.2"}};
  std::string hosts = up::podHostsFile("default", "productpage-v1-0", "10.0.0.7", services);
  CHECK(hosts.find("10.0.0.7 productpage-v1-0\n") != std::string::npos);
  CHECK(hosts.find("10.0.1.1 reviews.default.svc.cluster.local reviews.default.svc "
                   "reviews.default reviews\n") != std::string::npos);
  CHECK(hosts.find("10.0.1.2 cart.shop.svc.cluster.local cart.shop.svc cart.shop\n") !=
        std::string::npos);
  CHECK(up::podResolvConf("shop").find(
            "search shop.svc.cluster.local svc.cluster.local cluster.local\n") !=
        std::string::npos);
}
