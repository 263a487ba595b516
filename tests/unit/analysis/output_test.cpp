// The message model, renderers, thresholds and suppressions.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "analysis_fixture.h"
#include "pilot/analysis/codes.h"
#include "pilot/analysis/output.h"

using namespace mesh::pilot::analysis;
using namespace mesh::pilot::analysis::test;

namespace {
const std::string kBroken =
    "apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata:\n"
    "  name: reviews\n  namespace: default\nspec:\n  hosts: [reviews]\n  http:\n"
    "  - route:\n    - destination:\n        host: reviews\n---\n"
    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n";
}  // namespace

TEST_CASE("log lines have istioctl's shape", "[analysis][output]") {
  auto ms = analyzeYaml(kBroken);
  REQUIRE(ms.size() == 2);
  // Errors first, then Info.
  CHECK(ms[0].toLogLine() == "Error [IST0101] (VirtualService default/reviews test.yaml:11) "
                             "Referenced host not found: \"reviews\"");
  CHECK(ms[1].toLogLine().rfind("Info [IST0102] (Namespace shop test.yaml:13) ", 0) == 0);
}

TEST_CASE("origin omits a namespace the file does not give", "[analysis][output]") {
  std::string noNs = kBroken;
  noNs.erase(noNs.find("  namespace: default\n"), 21);
  auto ms = analyzeYaml(noNs);
  CHECK(ms[0].origin.friendlyName() == "VirtualService reviews");
}

TEST_CASE("json output has istioctl's keys", "[analysis][output]") {
  auto parsed = nlohmann::json::parse(render(analyzeYaml(kBroken), Format::json));
  REQUIRE(parsed.is_array());
  REQUIRE(parsed.size() == 2);
  const auto& first = parsed[0];
  CHECK(first["code"] == "IST0101");
  CHECK(first["level"] == "Error");
  CHECK(first["message"] == "Referenced host not found: \"reviews\"");
  CHECK(first["origin"] == "VirtualService default/reviews");
  CHECK(first["reference"] == "test.yaml:11");
  CHECK(first["documentationUrl"] ==
        "https://istio.io/latest/docs/reference/config/analysis/ist0101/");
  CHECK(first.size() == 6);
  CHECK(render({}, Format::json) == "[]\n");
}

TEST_CASE("yaml output is a list with the same keys", "[analysis][output]") {
  const std::string yaml = render(analyzeYaml(kBroken), Format::yaml);
  CHECK(yaml.rfind("- code: IST0101\n  documentationUrl: https://", 0) == 0);
  CHECK(yaml.find("  message: 'Referenced host not found: \"reviews\"'\n") != std::string::npos);
  CHECK(yaml.find("  origin: VirtualService default/reviews\n  reference: test.yaml:11\n") !=
        std::string::npos);
  CHECK(render({}, Format::yaml) == "[]\n");
}

TEST_CASE("output threshold hides, failure threshold decides", "[analysis][output]") {
  Options options;
  options.outputThreshold = Level::warning;
  Outcome out = analyze({{"test.yaml", kBroken}}, options);
  CHECK(out.shown.size() == 1);
  CHECK(out.failed);

  options.failureThreshold = Level::error;
  Outcome infoOnly = analyze({{"test.yaml", kBroken.substr(kBroken.find("apiVersion: v1"))}},
                             options);
  CHECK(infoOnly.shown.empty());
  CHECK_FALSE(infoOnly.failed);
  options.failureThreshold = Level::info;
  CHECK(analyze({{"t.yaml", kBroken.substr(kBroken.find("apiVersion: v1"))}}, options).failed);
}

TEST_CASE("suppressions by code and resource, with wildcards", "[analysis][output]") {
  auto parse = [](const std::string& s) {
    auto r = parseSuppression(s);
    REQUIRE(r.ok());
    return *r;
  };
  Options options;
  options.suppressions = {parse("IST0102=Namespace shop"),
                          parse("IST0101=VirtualService *")};
  Outcome out = analyze({{"test.yaml", kBroken}}, options);
  CHECK(out.shown.empty());
  CHECK_FALSE(out.failed);
  options.suppressions = {parse("IST0101=VirtualService reviews.default")};
  CHECK(analyze({{"test.yaml", kBroken}}, options).shown.size() == 1);
  CHECK_FALSE(parseSuppression("IST0101").ok());
  CHECK_FALSE(parseSuppression("IST9999=Pod x").ok());
}

TEST_CASE("a resource can suppress codes on itself", "[analysis][output]") {
  std::string annotated = kBroken;
  annotated.replace(annotated.find("  namespace: default\n"), 21,
                    "  namespace: default\n  annotations:\n"
                    "    galley.istio.io/analyze-suppress: IST0101,IST0132\n");
  auto ms = analyzeYaml(annotated);
  CHECK(withCode(ms, "IST0101").empty());
  CHECK(withCode(ms, "IST0102").size() == 1);
}

TEST_CASE("the catalog knows every code ISTIO.md lists", "[analysis][output]") {
  for (const char* code :
       {"IST0101", "IST0109", "IST0130", "IST0131", "IST0132", "IST0106", "IST0102", "IST0103",
        "IST0123", "IST0148", "IST0127", "IST0128", "IST0129", "IST0145", "IST0138", "IST0162",
        "IST0134", "IST0177", "IST0118", "IST0150", "IST0112", "IST0116", "IST0137", "IST0107",
        "IST0108", "IST0125", "IST0135", "IST0136", "IST0002", "IST0140", "IST0144", "IST0146",
        "IST0147", "IST0149", "IST0165", "IST0173", "IST0174"}) {
    INFO(code);
    CHECK(codes::byCode(code) != nullptr);
  }
  CHECK(codes::kReferencedResourceNotFound.level == Level::error);
  CHECK(codes::kVirtualServiceIneffectiveMatch.level == Level::info);
}

TEST_CASE("bad input is reported, never fatal", "[analysis][output]") {
  Outcome out = analyze({{"bad.yaml", "kind: [unclosed\n"},
                         {"notk8s.yaml", "just: a map\n"},
                         {"deep.yaml", std::string(5000, '[') + std::string(5000, ']')},
                         {"good.yaml", kBroken}},
                        {});
  CHECK(out.loadErrors.size() == 3);
  CHECK(out.loadErrors[0].toString().rfind("bad.yaml:", 0) == 0);
  CHECK(out.shown.size() == 2);
}

TEST_CASE("List objects are opened", "[analysis][output]") {
  auto ms = analyzeYaml("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n"
                        "  metadata: {name: shop}\n");
  REQUIRE(ms.size() == 1);
  CHECK(ms[0].toLogLine().find("(Namespace shop test.yaml:4)") != std::string::npos);
}

TEST_CASE("mesh config sets the root namespace", "[analysis][output]") {
  auto settings = parseMeshConfig("rootNamespace: mesh-system\ntrustDomain: cluster.local\n", {});
  REQUIRE(settings.ok());
  CHECK(settings->rootNamespace == "mesh-system");
  CHECK_FALSE(parseMeshConfig("rootNamespace: [a]\n", {}).ok());
  CHECK_FALSE(parseMeshConfig("- a\n", {}).ok());
}

TEST_CASE("an object given twice counts once, as its later definition", "[analysis][output]") {
  const std::string first =
      "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r}\n"
      "spec:\n  hosts: [a.example.com]\n  http:\n  - route:\n"
      "    - destination: {host: missing-one}\n---\n";
  std::string second = first;
  second.replace(second.find("missing-one"), 11, "missing-two");
  auto ms = analyzeYaml(first + second);
  REQUIRE(withCode(ms, "IST0101").size() == 1);
  CHECK(withCode(ms, "IST0101")[0].text == "Referenced host not found: \"missing-two\"");
  CHECK(withCode(ms, "IST0109").empty());
}

TEST_CASE("anchors and aliases are followed; alias bombs are refused", "[analysis][output]") {
  // Anchors live within one document, here a List.
  auto ms = analyzeYaml(
      "apiVersion: v1\nkind: List\nitems:\n"
      "- {apiVersion: v1, kind: Namespace, metadata: {name: a, labels: &on {istio-injection: enabled}}}\n"
      "- {apiVersion: v1, kind: Namespace, metadata: {name: b, labels: *on}}\n"
      "- {apiVersion: v1, kind: Namespace, metadata: {name: c}}\n");
  REQUIRE(withCode(ms, "IST0102").size() == 1);
  CHECK(withCode(ms, "IST0102")[0].origin.name == "c");

  std::string bomb = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n"
                     "  l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 7; ++i) {
    const std::string prev = "*l" + std::to_string(i - 1);
    bomb += "  l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) bomb += (j ? ", " : "") + prev;
    bomb += "]\n";
  }
  Outcome out = analyze({{"bomb.yaml", bomb}}, {});
  REQUIRE(out.loadErrors.size() == 1);
  CHECK(out.loadErrors[0].message == "document too large");
}
