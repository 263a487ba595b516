#include <catch2/catch.hpp>

#include "pilot/kube/values.h"

using mesh::pilot::kube::Values;

TEST_CASE("each profile gives every key a value") {
  for (const char* profile : {"default", "demo", "minimal"}) {
    auto values = Values::forProfile(profile);
    REQUIRE(values.ok());
    CHECK(values->profile() == profile);
    for (const auto& spec : mesh::pilot::kube::valueSpecs()) {
      INFO(profile << " " << spec.key);
      CHECK(values->has(spec.key));
    }
  }
}

TEST_CASE("profiles differ the way istioctl's do") {
  auto def = Values::forProfile("default");
  auto demo = Values::forProfile("demo");
  auto minimal = Values::forProfile("minimal");
  REQUIRE((def.ok() && demo.ok() && minimal.ok()));
  CHECK(def->enabled("gateways.ingress.enabled"));
  CHECK_FALSE(def->enabled("gateways.egress.enabled"));
  CHECK(demo->enabled("gateways.egress.enabled"));
  CHECK(demo->get("meshConfig.accessLogFile") == "/dev/stdout");
  CHECK_FALSE(minimal->enabled("gateways.ingress.enabled"));
  CHECK(def->get("pilot.replicas") == "2");
  CHECK(minimal->get("pilot.replicas") == "1");
}

TEST_CASE("an unknown profile is refused with the known ones") {
  auto values = Values::forProfile("huge");
  REQUIRE_FALSE(values.ok());
  CHECK_THAT(values.status().message(), Catch::Contains("default, demo, minimal"));
}

TEST_CASE("--set applies the profile first, then the overrides in order") {
  auto values = Values::fromSets(
      {"pilot.replicas=3", "profile=demo", "pilot.replicas=4", "hub=registry.example.com/team"});
  REQUIRE(values.ok());
  CHECK(values->profile() == "demo");
  CHECK(values->get("pilot.replicas") == "4");
  CHECK(values->get("hub") == "registry.example.com/team");
  CHECK(values->get("logLevel") == "debug");  // from demo, untouched
}

TEST_CASE("--set refuses unknown keys, malformed assignments and values that do not fit") {
  Values values = *Values::forProfile("default");
  CHECK_THAT(values.set("pilot.replica=2").message(), Catch::Contains("unknown key"));
  CHECK_THAT(values.set("pilot.replicas").message(), Catch::Contains("key=value"));
  CHECK_THAT(values.set("=2").message(), Catch::Contains("key=value"));
  CHECK_FALSE(values.set("pilot.replicas=-1").ok());
  CHECK_FALSE(values.set("pilot.replicas=two").ok());
  CHECK_FALSE(values.set("pdb.enabled=yes").ok());
  CHECK_FALSE(values.set("webhook.failurePolicy=Maybe").ok());
  CHECK_FALSE(values.set("pilot.resources.requests.memory=128MB").ok());
  // A value can never add YAML structure to the template it lands in.
  CHECK_FALSE(values.set("namespace=mesh\n  evil: true").ok());
  CHECK_FALSE(values.set("hub=a\"b").ok());
  CHECK_FALSE(values.set("tag=1.0: x").ok());
  CHECK_FALSE(values.set("Namespace=Upper").ok());
  CHECK(values.get("pilot.replicas") == "2");  // refusals change nothing
  CHECK(values.set("pilot.replicas=5").ok());
  CHECK(values.get("pilot.replicas") == "5");
  CHECK(values.set("pilot.resources.requests.cpu=0.5").ok());
  CHECK(values.set("meshConfig.accessLogFile=").ok());
}
