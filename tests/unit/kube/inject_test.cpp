#include <yaml-cpp/yaml.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "pilot/kube/inject.h"

namespace kube = mesh::pilot::kube;

namespace {

kube::InjectOptions options() {
  kube::InjectOptions o;
  o.image = "registry.example.com/mesh:1.2.3";
  o.pilotAddress = "mesh-pilot.mesh-system.svc:15012";
  o.caAddress = "mesh-ca.mesh-system.svc:15011";
  return o;
}

const char* kPodSpec = R"(
      containers:
        - name: app
          image: app:1
          ports: [{name: http, containerPort: 8080}]
          readinessProbe:
            httpGet: {path: /healthz, port: http}
)";

std::string workload(const std::string& apiVersion, const std::string& kind,
                     const std::string& extraMeta = "") {
  std::string pod = "    metadata:\n      labels: {app: x}\n" + extraMeta + "    spec:" + kPodSpec;
  std::string head = "apiVersion: " + apiVersion + "\nkind: " + kind +
                     "\nmetadata:\n  name: x\n  namespace: shop\nspec:\n";
  if (kind == "CronJob") {
    // Re-indent the pod template two levels deeper.
    std::string nested;
    std::size_t start = 0;
    while (start < pod.size()) {
      std::size_t end = pod.find('\n', start);
      nested += "    " + pod.substr(start, end - start + 1);
      start = end + 1;
    }
    return head + "  schedule: \"*/5 * * * *\"\n  jobTemplate:\n    spec:\n      template:\n" +
           nested;
  }
  return head + "  template:\n" + pod;
}

std::string pod(const std::string& extraMeta = "", const std::string& ns = "shop") {
  std::string text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: " + ns + "\n" +
                     extraMeta + "spec:";
  // The pod spec at top level: two spaces less than in a template.
  std::string spec = kPodSpec;
  std::string out;
  std::size_t start = 0;
  while (start < spec.size()) {
    std::size_t end = spec.find('\n', start);
    std::string line = spec.substr(start, end - start + 1);
    out += line.size() > 4 ? line.substr(4) : line;
    start = end + 1;
  }
  return text + out;
}

kube::InjectResult inject(const std::string& input, const kube::InjectOptions& o = options()) {
  auto result = kube::injectDocuments(input, o);
  INFO(result.status().message());
  REQUIRE(result.ok());
  return *result;
}

YAML::Node podTemplate(const YAML::Node& object) {
  std::string kind = object["kind"].as<std::string>();
  if (kind == "Pod") return object;
  if (kind == "CronJob") return object["spec"]["jobTemplate"]["spec"]["template"];
  return object["spec"]["template"];
}

YAML::Node findContainer(const YAML::Node& list, const std::string& name) {
  for (const auto& c : list) {
    if (c["name"].as<std::string>() == name) return c;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

void checkInjected(const YAML::Node& object) {
  YAML::Node tmpl = podTemplate(object);
  YAML::Node spec = tmpl["spec"];
  REQUIRE(spec["initContainers"].size() == 2);
  YAML::Node init = spec["initContainers"][0];
  YAML::Node proxy = spec["initContainers"][1];
  CHECK(init["name"].as<std::string>() == "istio-init");
  CHECK(init["args"][0].as<std::string>() == "proxy");
  CHECK(init["args"][1].as<std::string>() == "iptables");
  YAML::Node caps = init["securityContext"]["capabilities"]["add"];
  REQUIRE(caps.size() == 2);
  CHECK(caps[0].as<std::string>() == "NET_ADMIN");
  CHECK(caps[1].as<std::string>() == "NET_RAW");
  CHECK_FALSE(init["securityContext"]["privileged"].as<bool>());
  // Native sidecar: an init container that keeps running.
  CHECK(proxy["name"].as<std::string>() == "istio-proxy");
  CHECK(proxy["restartPolicy"].as<std::string>() == "Always");
  CHECK(proxy["image"].as<std::string>() == "registry.example.com/mesh:1.2.3");
  CHECK(proxy["args"][0].as<std::string>() == "proxy");
  CHECK(proxy["securityContext"]["runAsUser"].as<int>() == 1337);
  // Identity from the downward API.
  bool namespaceFromPod = false, accountFromPod = false;
  for (const auto& env : proxy["env"]) {
    if (!env["valueFrom"]) continue;
    std::string path = env["valueFrom"]["fieldRef"]["fieldPath"].as<std::string>();
    namespaceFromPod |=
        env["name"].as<std::string>() == "POD_NAMESPACE" && path == "metadata.namespace";
    accountFromPod |=
        env["name"].as<std::string>() == "SERVICE_ACCOUNT" && path == "spec.serviceAccountName";
  }
  CHECK(namespaceFromPod);
  CHECK(accountFromPod);
  // The app's probe now targets the sidecar.
  YAML::Node app = findContainer(spec["containers"], "app");
  CHECK(app["readinessProbe"]["httpGet"]["port"].as<int>() == 15021);
  CHECK(tmpl["metadata"]["annotations"]["sidecar.istio.io/status"]);
  CHECK(tmpl["metadata"]["labels"]["security.istio.io/tlsMode"].as<std::string>() == "istio");
  if (object["kind"].as<std::string>() != "Pod") {
    CHECK(tmpl["metadata"]["labels"]["app"].as<std::string>() == "x");  // labels kept
  }
}

}  // namespace

TEST_CASE("every workload kind is injected") {
  struct Case {
    const char* apiVersion;
    const char* kind;
  };
  for (Case c :
       {Case{"apps/v1", "Deployment"}, Case{"apps/v1", "StatefulSet"}, Case{"apps/v1", "DaemonSet"},
        Case{"apps/v1", "ReplicaSet"}, Case{"batch/v1", "Job"}, Case{"batch/v1", "CronJob"},
        Case{"v1", "ReplicationController"}}) {
    INFO(c.kind);
    auto result = inject(workload(c.apiVersion, c.kind));
    REQUIRE(result.objects.size() == 1);
    CHECK(result.objects[0].injected);
    CHECK(result.objects[0].kind == c.kind);
    checkInjected(YAML::Load(result.output));
  }
  auto result = inject(pod());
  checkInjected(YAML::Load(result.output));
}

TEST_CASE("a kind of the same name in another API group is not a workload") {
  std::string input = workload("example.com/v1", "Deployment");
  auto result = inject(input);
  CHECK(result.output == input);
  CHECK(result.objects.empty());
}

TEST_CASE("the opt-out annotation and label are honoured") {
  std::string annotated = pod("  annotations:\n    sidecar.istio.io/inject: \"false\"\n");
  auto result = inject(annotated);
  CHECK(result.output == annotated);
  REQUIRE(result.objects.size() == 1);
  CHECK_FALSE(result.objects[0].injected);
  CHECK_THAT(result.objects[0].reason, Catch::Contains("sidecar.istio.io/inject=false"));

  std::string labelled = workload(
      "apps/v1", "Deployment", "      annotations:\n        sidecar.istio.io/inject: \"false\"\n");
  CHECK(inject(labelled).output == labelled);
}

TEST_CASE("namespace labels decide, as the webhook's selectors do") {
  const std::string disabled =
      "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n"
      "    istio-injection: disabled\n---\n";
  auto result = inject(disabled + pod());
  CHECK(result.output == disabled + pod());
  CHECK_THAT(result.objects[0].reason, Catch::Contains("istio-injection=disabled"));
  // A namespace label given by the caller (the webhook's view of the cluster) counts too.
  auto fromCaller =
      kube::injectDocuments(pod(), options(), {{"shop", {{"istio-injection", "disabled"}}}});
  REQUIRE(fromCaller.ok());
  CHECK_FALSE(fromCaller->objects[0].injected);

  // The webhook's policy: only what asks for it.
  kube::InjectOptions webhook = options();
  webhook.injectByDefault = false;
  CHECK_FALSE(inject(pod(), webhook).objects[0].injected);
  const std::string enabled =
      "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n"
      "    istio-injection: enabled\n---\n";
  CHECK(inject(enabled + pod(), webhook).objects[0].injected);
  CHECK(inject(pod("  labels:\n    sidecar.istio.io/inject: \"true\"\n"), webhook)
            .objects[0]
            .injected);
  // The pod's "false" wins over an enabled namespace.
  CHECK_FALSE(inject(enabled + pod("  annotations:\n    sidecar.istio.io/inject: \"false\"\n"))
                  .objects[0]
                  .injected);
}

TEST_CASE("system namespaces and host-network pods are never injected") {
  for (const char* ns : {"kube-system", "kube-public", "mesh-system"}) {
    std::string input = pod("", ns);
    CHECK(inject(input).output == input);
  }
  std::string host = pod() + "  hostNetwork: true\n";
  auto result = inject(host);
  CHECK(result.output == host);
  CHECK(result.objects[0].reason == "host network");
}

TEST_CASE("injecting twice changes nothing") {
  std::string input =
      "# services first\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\n" +
      workload("apps/v1", "Deployment") + "---\n" + workload("batch/v1", "CronJob");
  std::string once = inject(input).output;
  CHECK(once != input);
  auto twice = inject(once);
  CHECK(twice.output == once);
  for (const auto& object : twice.objects) {
    CHECK_FALSE(object.injected);
    CHECK(object.reason == "already injected");
  }
}

TEST_CASE("documents keep their order and untouched ones their bytes") {
  const std::string service =
      "# a comment that must survive\napiVersion: v1\nkind: Service\nmetadata:\n"
      "  name: web   # trailing comment\nspec: {ports: [{port: 80}]}\n";
  const std::string config =
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n"
      "  flag: \"true\"\n";
  std::string input =
      service + "---\n" + workload("apps/v1", "Deployment") + "--- # last\n" + config;
  auto result = inject(input);
  CHECK(result.output.rfind(service + "---\n", 0) == 0);
  CHECK(result.output.size() > config.size());
  CHECK(result.output.substr(result.output.size() - config.size() - 11) == "--- # last\n" + config);
  auto docs = YAML::LoadAll(result.output);
  REQUIRE(docs.size() == 3);
  CHECK(docs[0]["kind"].as<std::string>() == "Service");
  CHECK(docs[1]["kind"].as<std::string>() == "Deployment");
  CHECK(docs[1]["metadata"]["name"].as<std::string>() == "x");
  CHECK(docs[2]["kind"].as<std::string>() == "ConfigMap");
}

TEST_CASE("quoted strings stay strings in injected documents") {
  std::string input = workload("apps/v1", "Deployment",
                               "      annotations:\n        team: \"42\"\n        on: \"yes\"\n");
  YAML::Node out = YAML::Load(inject(input).output);
  YAML::Node annotations = out["spec"]["template"]["metadata"]["annotations"];
  CHECK(annotations["team"].Tag() == "!");
  CHECK(annotations["on"].Tag() == "!");
  CHECK(annotations["prometheus.io/port"].Tag() == "!");
  CHECK(annotations["prometheus.io/scrape"].Tag() == "!");
  auto status = nlohmann::json::parse(annotations["sidecar.istio.io/status"].as<std::string>());
  CHECK(status["initContainers"][1] == "istio-proxy");
}

TEST_CASE("the proxy learns the original probes; the opt-out keeps them") {
  YAML::Node out = YAML::Load(inject(pod()).output);
  YAML::Node proxy = out["spec"]["initContainers"][1];
  std::string probers;
  for (const auto& env : proxy["env"]) {
    if (env["name"].as<std::string>() == "ISTIO_KUBE_APP_PROBERS")
      probers = env["value"].as<std::string>();
  }
  auto json = nlohmann::json::parse(probers);
  CHECK(json["/app-health/app/readyz"]["httpGet"]["path"] == "/healthz");
  CHECK(json["/app-health/app/readyz"]["httpGet"]["port"] == 8080);

  YAML::Node kept = YAML::Load(
      inject(pod("  annotations:\n    sidecar.istio.io/rewriteAppHTTPProbers: \"false\"\n"))
          .output);
  CHECK(kept["spec"]["containers"][0]["readinessProbe"]["httpGet"]["port"].as<std::string>() ==
        "http");
  CHECK(kept["spec"]["initContainers"].size() == 2);
}

TEST_CASE("Istio's traffic annotations narrow what the init container captures") {
  YAML::Node out = YAML::Load(inject(pod(
      "  annotations:\n"
      "    traffic.sidecar.istio.io/excludeOutboundPorts: \"5432,3306\"\n"
      "    traffic.sidecar.istio.io/excludeInboundPorts: \"9090\"\n"
      "    traffic.sidecar.istio.io/includeInboundPorts: \"8080,9090\"\n"
      "    traffic.sidecar.istio.io/includeOutboundIPRanges: \"10.0.0.0/8\"\n"
      "    traffic.sidecar.istio.io/excludeOutboundIPRanges: \"10.96.0.10/32\"\n")).output);
  std::vector<std::string> args;
  for (const auto& a : out["spec"]["initContainers"][0]["args"]) args.push_back(a.as<std::string>());
  auto has = [&](const std::string& arg) {
    return std::find(args.begin(), args.end(), arg) != args.end();
  };
  CHECK(has("--exclude-outbound-ports=5432,3306"));
  CHECK(has("--inbound-ports=8080,9090"));
  CHECK(has("--include-outbound-ips=10.0.0.0/8"));
  CHECK(has("--exclude-outbound-ips=10.96.0.10/32"));
  // The sidecar's own ports stay excluded, the pod's added to them.
  CHECK(has("--exclude-inbound-ports=15021,15090,9090"));

  // A value that is no list is refused, with the annotation named.
  auto bad = kube::injectDocuments(
      pod("  annotations:\n    traffic.sidecar.istio.io/excludeOutboundPorts: \"http\"\n"),
      options());
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(),
             Catch::Contains("traffic.sidecar.istio.io/excludeOutboundPorts: \"http\""));
}

TEST_CASE("the app's own init containers run after the sidecar is up") {
  std::string input = pod() + "  initContainers:\n    - name: migrate\n      image: m:1\n";
  YAML::Node out = YAML::Load(inject(input).output);
  REQUIRE(out["spec"]["initContainers"].size() == 3);
  CHECK(out["spec"]["initContainers"][2]["name"].as<std::string>() == "migrate");
}

TEST_CASE("workloads inside a List are injected") {
  std::string items =
      "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Pod\n"
      "    metadata: {name: p}\n    spec:\n      containers: [{name: c, image: i}]\n";
  auto result = inject(items);
  REQUIRE(result.objects.size() == 1);
  CHECK(result.objects[0].injected);
  YAML::Node out = YAML::Load(result.output);
  CHECK(out["items"][0]["spec"]["initContainers"].size() == 2);
}

TEST_CASE("bad input is an error that says where, never a crash") {
  auto broken = kube::injectDocuments("a: 1\n---\nb: 2\nc: d: e\nf: 3\n", options());
  REQUIRE_FALSE(broken.ok());
  CHECK_THAT(broken.status().message(), Catch::Contains("line 4"));

  auto noTemplate = kube::injectDocuments(
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: 1}\n",
      options());
  REQUIRE_FALSE(noTemplate.ok());
  CHECK_THAT(noTemplate.status().message(), Catch::Contains("Deployment default/d"));

  auto noContainers = kube::injectDocuments(
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n", options());
  CHECK_FALSE(noContainers.ok());

  auto wrongShape = kube::injectDocuments(
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c}]\n"
      "  volumes: not-a-list\n",
      options());
  CHECK_FALSE(wrongShape.ok());

  for (const char* odd : {"", "---\n---\n", "just a string\n", "- a\n- b\n", "kind: Pod\n",
                          "apiVersion: v1\nkind: Pod\n", "apiVersion: v1\nkind: Pod\nspec: 3\n"}) {
    INFO(odd);
    auto result = kube::injectDocuments(odd, options());
    if (result.ok()) CHECK(result->output == odd);
  }
}
