#include <catch2/catch.hpp>

#include "tests/unit/pilot/pilot_fixture.h"

using namespace mesh;

namespace {

const char* kGood = R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
---
apiVersion: v1
kind: Service
metadata:
  name: reviews
spec:
  ports: [{port: 9080, name: http}]
  selector: {app: reviews}
)";

// The same files with the VirtualService broken: a weight out of range.
const char* kBadWeight = R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v2}
      weight: 300
---
apiVersion: v1
kind: Service
metadata:
  name: reviews
spec:
  ports: [{port: 9080, name: http}]
  selector: {app: reviews}
)";

}  // namespace

TEST_CASE("an invalid resource keeps its last good version and reports file and line", "[pilot][config]") {
  auto first = test::configFrom(kGood);
  REQUIRE(first->errors.empty());
  REQUIRE(first->resources.size() == 2);

  auto second = test::configFrom(kBadWeight, first.get());
  REQUIRE(second->errors.size() == 1);
  std::string error = second->errors[0].toString();
  CHECK(error.find("test.yaml:10") != std::string::npos);
  CHECK(error.find("weight") != std::string::npos);
  REQUIRE(second->resources.size() == 2);
  REQUIRE(second->keptFromBefore.size() == 1);
  // The VirtualService served is the old one (subset v1), not the refused one.
  for (const auto& r : second->resources) {
    if (r.kind == "VirtualService") CHECK(r.spec["http"][0]["route"][0]["destination"]["subset"] == "v1");
  }
}

TEST_CASE("an invalid resource with no good version before is left out", "[pilot][config]") {
  auto set = test::configFrom(kBadWeight);
  CHECK(set->errors.size() == 1);
  REQUIRE(set->resources.size() == 1);
  CHECK(set->resources[0].kind == "Service");
  CHECK(set->keptFromBefore.empty());
}

TEST_CASE("a file that no longer parses keeps every resource it had", "[pilot][config]") {
  auto first = test::configFrom(kGood);
  auto second = test::configFrom("apiVersion: v1\nkind: [unclosed\n", first.get());
  CHECK_FALSE(second->errors.empty());
  CHECK(second->resources.size() == 2);
}

TEST_CASE("a resource deleted from a valid file is gone", "[pilot][config]") {
  auto first = test::configFrom(kGood);
  auto second = test::configFrom(R"(apiVersion: v1
kind: Service
metadata:
  name: reviews
spec:
  ports: [{port: 9080, name: http}]
)", first.get());
  CHECK(second->errors.empty());
  REQUIRE(second->resources.size() == 1);
  CHECK(second->resources[0].kind == "Service");
}

TEST_CASE("two definitions of one resource: the later one is served, the other reported", "[pilot][config]") {
  std::string text = std::string(kGood) + R"(---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v3}
)";
  auto set = test::configFrom(text.c_str());
  REQUIRE(set->resources.size() == 2);
  for (const auto& r : set->resources) {
    if (r.kind == "VirtualService") CHECK(r.spec["http"][0]["route"][0]["destination"]["subset"] == "v3");
  }
  REQUIRE(set->errors.size() == 1);
  std::string error = set->errors[0].toString();
  CHECK(error.find("test.yaml:1: VirtualService default/reviews") != std::string::npos);
  INFO(error);
  CHECK(error.find("also defined at test.yaml:19") != std::string::npos);
}
