// Injection, annotation, selector and deprecation analyzers.
#include <catch2/catch.hpp>

#include "analysis_fixture.h"

using namespace mesh::pilot::analysis;
using namespace mesh::pilot::analysis::test;

namespace {
std::string ns(const std::string& name, const std::string& labels) {
  return "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + name +
         (labels.empty() ? "" : "\n  labels: {" + labels + "}") + "\n";
}
std::string pod(const std::string& name, const std::string& nsName, const std::string& extra,
                const std::string& containers = "  - {name: app, image: nginx}\n") {
  return "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\n  namespace: " +
         nsName + "\n  labels: {app: " + name + "}\n" + extra + "spec:\n  containers:\n" +
         containers;
}
const std::string kInjectorByDefault =
    "---\napiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\n"
    "metadata: {name: mesh-sidecar-injector}\nwebhooks:\n"
    "- name: namespace.sidecar-injector.istio.io\n  namespaceSelector:\n"
    "    matchExpressions:\n    - {key: istio-injection, operator: NotIn, values: [disabled]}\n";
}  // namespace

TEST_CASE("IST0102: a namespace without an injection label", "[analysis][injection]") {
  auto ms = analyzeYaml(ns("shop", ""));
  auto found = withCode(ms, "IST0102");
  REQUIRE(found.size() == 1);
  CHECK(found[0].origin.friendlyName() == "Namespace shop");
  CHECK(found[0].text.find("kubectl label namespace shop istio-injection=enabled") !=
        std::string::npos);
  CHECK(withCode(analyzeYaml(ns("shop", "istio-injection: enabled")), "IST0102").empty());
  CHECK(withCode(analyzeYaml(ns("shop", "istio-injection: disabled")), "IST0102").empty());
  CHECK(withCode(analyzeYaml(ns("kube-system", "")), "IST0102").empty());
}

TEST_CASE("IST0148: injection on by default instead of IST0102", "[analysis][injection]") {
  auto ms = analyzeYaml(ns("shop", "") + kInjectorByDefault);
  CHECK(withCode(ms, "IST0102").empty());
  REQUIRE(withCode(ms, "IST0148").size() == 1);
}

TEST_CASE("IST0123: both injection labels", "[analysis][injection]") {
  auto ms = analyzeYaml(ns("shop", "istio-injection: enabled, istio.io/rev: canary"));
  REQUIRE(withCode(ms, "IST0123").size() == 1);
  CHECK(withCode(analyzeYaml(ns("shop", "istio.io/rev: canary")), "IST0123").empty());
}

TEST_CASE("IST0103: a pod in an injected namespace without a sidecar", "[analysis][injection]") {
  const std::string injected = ns("shop", "istio-injection: enabled");
  auto ms = analyzeYaml(injected + pod("web", "shop", ""));
  REQUIRE(withCode(ms, "IST0103").size() == 1);
  CHECK(withCode(ms, "IST0103")[0].text.find("The pod web is missing the Istio proxy.") == 0);
  auto withProxy = analyzeYaml(injected + pod("web", "shop", "",
                                              "  - {name: app, image: nginx}\n"
                                              "  - {name: istio-proxy, image: mesh}\n"));
  CHECK(withCode(withProxy, "IST0103").empty());
  auto optedOut = analyzeYaml(
      injected + pod("web", "shop", "  annotations: {sidecar.istio.io/inject: \"false\"}\n"));
  CHECK(withCode(optedOut, "IST0103").empty());
}

TEST_CASE("IST0146 and IST0147: image auto without injection", "[analysis][injection]") {
  const std::string deployment =
      "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: gw, namespace: plain}\n"
      "spec:\n  selector: {matchLabels: {app: gw}}\n  template:\n"
      "    metadata: {labels: {app: gw}}\n    spec:\n      containers:\n"
      "      - {name: istio-proxy, image: auto}\n";
  auto ms = analyzeYaml(ns("plain", "istio-injection: disabled") + deployment +
                        pod("gwpod", "plain", "", "  - {name: istio-proxy, image: auto}\n"));
  REQUIRE(withCode(ms, "IST0146").size() == 1);
  CHECK(withCode(ms, "IST0146")[0].text ==
        "Deployment gw contains `image: auto` but does not match any Istio injection webhook "
        "selectors.");
  REQUIRE(withCode(ms, "IST0147").size() == 1);
  CHECK(withCode(ms, "IST0147")[0].type->level == Level::error);
  auto injected = analyzeYaml(ns("plain", "istio-injection: enabled") + deployment);
  CHECK(withCode(injected, "IST0146").empty());
}

TEST_CASE("annotations: unknown, misplaced, invalid, deprecated, alpha", "[analysis][annotations]") {
  const std::string yaml =
      "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  annotations:\n"
      "    sidecar.istio.io/inject: \"false\"\n"  // IST0107: belongs on the pod template
      "spec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata:\n"
      "      labels: {app: web}\n      annotations:\n"
      "        sidecar.istio.io/frobnicate: \"yes\"\n"                        // IST0108
      "        traffic.sidecar.istio.io/excludeOutboundPorts: \"80,x\"\n"     // IST0125
      "        sidecar.istio.io/statsInclusionPrefixes: cluster.outbound\n"  // IST0135
      "        inject.istio.io/templates: sidecar\n"                         // IST0136 (opt-in)
      "        example.com/other: anything\n"
      "    spec:\n      containers:\n      - {name: web, image: nginx}\n";
  auto ms = analyzeYaml(yaml);
  REQUIRE(withCode(ms, "IST0107").size() == 1);
  CHECK(withCode(ms, "IST0107")[0].text ==
        "Misplaced annotation: sidecar.istio.io/inject can only be applied to Pod");
  REQUIRE(withCode(ms, "IST0108").size() == 1);
  CHECK(withCode(ms, "IST0108")[0].text == "Unknown annotation: sidecar.istio.io/frobnicate");
  REQUIRE(withCode(ms, "IST0125").size() == 1);
  CHECK(withCode(ms, "IST0125")[0].text.find("\"x\" is not a port number") != std::string::npos);
  REQUIRE(withCode(ms, "IST0135").size() == 1);
  CHECK(withCode(ms, "IST0136").empty());
  Options alpha;
  alpha.settings.includeAlpha = true;
  CHECK(withCode(analyzeYaml(yaml, alpha), "IST0136").size() == 1);
}

TEST_CASE("IST0127: a policy selector that matches no workload", "[analysis][selector]") {
  const std::string policy =
      "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p}\n"
      "spec:\n  selector:\n    matchLabels: {app: ratings, version: v2}\n  action: ALLOW\n";
  auto ms = analyzeYaml(bookinfo() + policy);
  REQUIRE(withCode(ms, "IST0127").size() == 1);
  CHECK(withCode(ms, "IST0127")[0].text ==
        "No matching workloads for this resource with the following labels: app=ratings,version=v2");
  std::string v1 = policy;
  v1.replace(v1.find("v2"), 2, "v1");
  CHECK(withCode(analyzeYaml(bookinfo() + v1), "IST0127").empty());
}

TEST_CASE("IST0002: deprecated fields", "[analysis][deprecation]") {
  auto ms = analyzeYaml(bookinfo() +
                        "apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\n"
                        "metadata: {name: cb}\nspec:\n  host: ratings\n  trafficPolicy:\n"
                        "    outlierDetection:\n      consecutiveErrors: 5\n");
  REQUIRE(withCode(ms, "IST0002").size() == 1);
  CHECK(withCode(ms, "IST0002")[0].text.find("consecutive5xxErrors") != std::string::npos);
}
