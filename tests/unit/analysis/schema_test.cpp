// IST0106 comes from core/config's schemas; these check that analysis reports them on the
// right resource and line, and only for Istio kinds.
#include <catch2/catch.hpp>

#include "analysis_fixture.h"

using namespace mesh::pilot::analysis;
using namespace mesh::pilot::analysis::test;

namespace {
std::vector<Message> schemaErrors(const std::string& kindAndSpec) {
  return withCode(analyzeYaml(bookinfo() + "apiVersion: networking.istio.io/v1beta1\n" +
                              kindAndSpec),
                  "IST0106");
}
std::string vs(const std::string& http) {
  return "kind: VirtualService\nmetadata: {name: r}\nspec:\n  hosts: [reviews]\n  http:\n" + http;
}
int lineOf(const std::string& needle, const std::string& in) {
  return 1 + static_cast<int>(std::count(in.begin(), in.begin() + in.find(needle), '\n'));
}
}  // namespace

TEST_CASE("IST0106: valid resources pass", "[analysis][schema]") {
  auto ms = schemaErrors(vs("  - match:\n    - uri: {regex: \"^/api/v[0-9]+/.*\"}\n"
                            "      headers: {x-user: {prefix: a}}\n    timeout: 1.5s\n"
                            "    retries: {attempts: 3, perTryTimeout: 500ms, retryOn: 5xx}\n"
                            "    fault:\n      delay:\n        fixedDelay: 7s\n"
                            "        percentage: {value: 10}\n"
                            "    route:\n    - destination: {host: reviews, subset: v1}\n"
                            "      weight: 75\n    - destination: {host: reviews, subset: v2}\n"
                            "      weight: 25\n"));
  CHECK(dump(ms) == "");
}

TEST_CASE("IST0106: an unknown field, at its line", "[analysis][schema]") {
  const std::string spec = vs("  - route:\n    - destination: {host: reviews}\n    retry: {}\n");
  auto ms = schemaErrors(spec);
  REQUIRE(ms.size() == 1);
  CHECK(ms[0].type->level == Level::error);
  CHECK(ms[0].origin.friendlyName() == "VirtualService r");
  CHECK(ms[0].text.rfind("Schema validation error: spec.http[0].retry: ", 0) == 0);
  const std::string all = bookinfo() + "apiVersion: networking.istio.io/v1beta1\n" + spec;
  CHECK(ms[0].origin.line == lineOf("    retry: {}", all));
}

TEST_CASE("IST0106: wrong types and bad enums", "[analysis][schema]") {
  auto ms = schemaErrors(
      "kind: DestinationRule\nmetadata: {name: d}\nspec:\n  host: reviews\n  trafficPolicy:\n"
      "    loadBalancer: {simple: FASTEST}\n    connectionPool:\n      tcp: {maxConnections: lots}\n");
  REQUIRE(ms.size() == 2);
  CHECK(dump(ms).find("spec.trafficPolicy.loadBalancer.simple: ") != std::string::npos);
  CHECK(dump(ms).find("spec.trafficPolicy.connectionPool.tcp.maxConnections: ") !=
        std::string::npos);
}

TEST_CASE("IST0106: weights must add up to 100", "[analysis][schema]") {
  auto ms = schemaErrors(vs("  - route:\n    - destination: {host: reviews, subset: v1}\n"
                            "      weight: 60\n    - destination: {host: reviews, subset: v2}\n"
                            "      weight: 30\n"));
  REQUIRE(ms.size() == 1);
  CHECK(ms[0].text.find("spec.http[0].route") != std::string::npos);
  CHECK(ms[0].text.find("100") != std::string::npos);
}

TEST_CASE("IST0106: durations and regexes", "[analysis][schema]") {
  auto ms = schemaErrors(vs("  - match:\n    - uri: {regex: \"/api/(v1\"}\n"
                            "    timeout: 10\n    retries: {attempts: 2, perTryTimeout: 2 seconds}\n"
                            "    route:\n    - destination: {host: reviews}\n"));
  REQUIRE(ms.size() == 3);
  CHECK(dump(ms).find("spec.http[0].match[0].uri.regex: ") != std::string::npos);
  CHECK(dump(ms).find("spec.http[0].timeout: ") != std::string::npos);
  CHECK(dump(ms).find("spec.http[0].retries.perTryTimeout: ") != std::string::npos);
}

TEST_CASE("IST0106: only for Istio kinds", "[analysis][schema]") {
  // core/config refuses this Service name, but Kubernetes objects are not Istio's to report.
  auto ms = withCode(analyzeYaml("apiVersion: v1\nkind: Service\nmetadata: {name: Bad_Name}\n"
                                 "spec:\n  ports: [{name: http, port: 80}]\n"),
                     "IST0106");
  CHECK(ms.empty());
}
