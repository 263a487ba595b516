#include <yaml-cpp/yaml.h>
#include <catch2/catch.hpp>

#include <set>

#include "pilot/kube/embedded.h"
#include "pilot/kube/render.h"

namespace kube = mesh::pilot::kube;

namespace {

std::vector<kube::RenderedObject> renderSets(const std::vector<std::string>& sets) {
  auto values = kube::Values::fromSets(sets);
  REQUIRE(values.ok());
  auto objects = kube::renderAll(kube::embeddedManifests(), *values);
  INFO(objects.status().message());
  REQUIRE(objects.ok());
  return *objects;
}

const kube::RenderedObject* find(const std::vector<kube::RenderedObject>& objects,
                                 const std::string& kind, const std::string& name) {
  for (const auto& o : objects) {
    if (o.kind == kind && o.name == name) return &o;
  }
  return nullptr;
}

YAML::Node load(const kube::RenderedObject* object) {
  REQUIRE(object != nullptr);
  return YAML::Load(object->yaml);
}

auto renderText(const char* text, const std::vector<std::string>& sets = {}) {
  return kube::renderTemplate({"t.yaml", text}, *kube::Values::fromSets(sets));
}

}  // namespace

TEST_CASE("every profile renders the whole control plane") {
  for (const char* profile : {"default", "demo", "minimal"}) {
    INFO(profile);
    auto objects = renderSets({std::string("profile=") + profile});
    std::set<std::string> crds;
    for (const auto& o : objects) {
      if (o.kind == "CustomResourceDefinition") crds.insert(o.name);
      // Every namespaced object of ours is in the control plane's namespace.
      if (!o.ns.empty()) CHECK(o.ns == "mesh-system");
    }
    CHECK(crds.count("virtualservices.networking.istio.io") == 1);
    CHECK(crds.count("authorizationpolicies.security.istio.io") == 1);
    CHECK(crds.size() == 9);
    CHECK(objects.front().kind == "CustomResourceDefinition");  // before anything using them
    CHECK(find(objects, "Namespace", "mesh-system"));
    CHECK(find(objects, "Deployment", "mesh-pilot"));
    CHECK(find(objects, "Deployment", "mesh-ca"));
    CHECK(find(objects, "Service", "mesh-pilot"));
    CHECK(find(objects, "Service", "mesh-ca"));
    CHECK(find(objects, "MutatingWebhookConfiguration", "mesh-sidecar-injector"));
    CHECK(find(objects, "ClusterRole", "mesh-pilot"));
  }
}

TEST_CASE("profiles decide the gateways and the disruption budgets") {
  auto def = renderSets({});
  auto demo = renderSets({"profile=demo"});
  auto minimal = renderSets({"profile=minimal"});
  CHECK(find(def, "Deployment", "mesh-ingressgateway"));
  CHECK_FALSE(find(def, "Deployment", "mesh-egressgateway"));
  CHECK(find(def, "PodDisruptionBudget", "mesh-pilot"));
  CHECK(find(demo, "Deployment", "mesh-egressgateway"));
  CHECK_FALSE(find(demo, "PodDisruptionBudget", "mesh-pilot"));
  CHECK_FALSE(find(minimal, "Deployment", "mesh-ingressgateway"));
  CHECK_FALSE(find(minimal, "Service", "mesh-ingressgateway"));
  CHECK(find(minimal, "PodDisruptionBudget", "mesh-pilot"));
}

TEST_CASE("control plane pods run as non-root on a read-only root filesystem with requests") {
  auto objects = renderSets({});
  for (const char* name : {"mesh-pilot", "mesh-ca", "mesh-ingressgateway"}) {
    INFO(name);
    YAML::Node pod = load(find(objects, "Deployment", name))["spec"]["template"]["spec"];
    CHECK(pod["securityContext"]["runAsNonRoot"].as<bool>());
    for (const auto& c : pod["containers"]) {
      CHECK(c["securityContext"]["readOnlyRootFilesystem"].as<bool>());
      CHECK_FALSE(c["securityContext"]["allowPrivilegeEscalation"].as<bool>());
      CHECK(c["securityContext"]["capabilities"]["drop"][0].as<std::string>() == "ALL");
      CHECK(c["resources"]["requests"]["cpu"]);
      CHECK(c["resources"]["requests"]["memory"]);
    }
  }
}

TEST_CASE("pilot's RBAC reads config and writes only its own webhook") {
  auto objects = renderSets({});
  YAML::Node role = load(find(objects, "ClusterRole", "mesh-pilot"));
  for (const auto& rule : role["rules"]) {
    for (const auto& verb : rule["verbs"]) {
      std::string v = verb.as<std::string>();
      if (v == "get" || v == "list" || v == "watch") continue;
      CHECK(v == "patch");
      CHECK(rule["resourceNames"][0].as<std::string>() == "mesh-sidecar-injector");
    }
    for (const auto& resource : rule["resources"]) {
      CHECK(resource.as<std::string>() != "secrets");
      CHECK(resource.as<std::string>() != "*");
    }
  }
}

TEST_CASE("the webhook calls pilot on 443 -> 15017 and skips opted-out pods") {
  auto objects = renderSets({});
  YAML::Node webhook = load(find(objects, "MutatingWebhookConfiguration", "mesh-sidecar-injector"));
  REQUIRE(webhook["webhooks"].size() == 2);
  YAML::Node first = webhook["webhooks"][0];
  CHECK(first["clientConfig"]["service"]["name"].as<std::string>() == "mesh-pilot");
  CHECK(first["clientConfig"]["service"]["port"].as<int>() == 443);
  CHECK(first["objectSelector"]["matchExpressions"][0]["operator"].as<std::string>() == "NotIn");
  YAML::Node service = load(find(objects, "Service", "mesh-pilot"));
  bool mapped = false;
  for (const auto& port : service["spec"]["ports"]) {
    if (port["port"].as<int>() == 443) mapped = port["targetPort"].as<int>() == 15017;
  }
  CHECK(mapped);
  auto without = renderSets({"webhook.enabled=false"});
  CHECK_FALSE(find(without, "MutatingWebhookConfiguration", "mesh-sidecar-injector"));
}

TEST_CASE("--set overrides reach the rendered objects") {
  auto objects =
      renderSets({"namespace=mesh-prod", "hub=registry.example.com/team", "tag=9.9.9",
                  "pilot.replicas=5", "pilot.resources.requests.memory=512Mi",
                  "gateways.ingress.serviceType=NodePort", "webhook.failurePolicy=Ignore"});
  CHECK(find(objects, "Namespace", "mesh-prod"));
  YAML::Node pilot = load(find(objects, "Deployment", "mesh-pilot"));
  CHECK(pilot["metadata"]["namespace"].as<std::string>() == "mesh-prod");
  CHECK(pilot["spec"]["replicas"].as<int>() == 5);
  YAML::Node container = pilot["spec"]["template"]["spec"]["containers"][0];
  CHECK(container["image"].as<std::string>() == "registry.example.com/team/mesh:9.9.9");
  CHECK(container["resources"]["requests"]["memory"].as<std::string>() == "512Mi");
  YAML::Node gateway = load(find(objects, "Service", "mesh-ingressgateway"));
  CHECK(gateway["spec"]["type"].as<std::string>() == "NodePort");
  YAML::Node webhook = load(find(objects, "MutatingWebhookConfiguration", "mesh-sidecar-injector"));
  CHECK(webhook["webhooks"][0]["failurePolicy"].as<std::string>() == "Ignore");
  CHECK(webhook["webhooks"][0]["clientConfig"]["service"]["namespace"].as<std::string>() ==
        "mesh-prod");
  auto binding = load(find(objects, "ClusterRoleBinding", "mesh-ca"));
  CHECK(binding["subjects"][0]["namespace"].as<std::string>() == "mesh-prod");
}

TEST_CASE("joined documents parse back to the same objects") {
  auto objects = renderSets({"profile=demo"});
  std::vector<YAML::Node> docs = YAML::LoadAll(kube::joinDocuments(objects));
  REQUIRE(docs.size() == objects.size());
  for (std::size_t i = 0; i < docs.size(); ++i) {
    CHECK(docs[i]["kind"].as<std::string>() == objects[i].kind);
    CHECK(docs[i]["metadata"]["name"].as<std::string>() == objects[i].name);
  }
}

TEST_CASE("template syntax: values, conditions, and errors with the line") {
  auto ok = renderText(
      "#if pdb.enabled\nkind: A\n#endif\n#if !pdb.enabled\nkind: B\n#endif\n"
      "apiVersion: v1\nmetadata:\n  name: {{ namespace }}-x\n");
  REQUIRE(ok.ok());
  REQUIRE(ok->size() == 1);
  CHECK((*ok)[0].kind == "A");
  CHECK((*ok)[0].name == "mesh-system-x");
  auto off = renderText(
      "#if pdb.enabled\nkind: A\n#endif\n#if !pdb.enabled\nkind: B\n#endif\n"
      "apiVersion: v1\nmetadata: {name: x}\n",
      {"pdb.enabled=false"});
  REQUIRE(off.ok());
  CHECK((*off)[0].kind == "B");

  auto unknown = renderText("apiVersion: v1\nkind: A\nmetadata:\n  name: {{nope}}\n");
  REQUIRE_FALSE(unknown.ok());
  CHECK_THAT(unknown.status().message(), Catch::Contains("t.yaml:4") && Catch::Contains("nope"));
  auto unclosed = renderText("#if pdb.enabled\napiVersion: v1\n");
  CHECK_FALSE(unclosed.ok());
  auto stray = renderText("#endif\n");
  CHECK_FALSE(stray.ok());
  auto bad = renderText("# c\n---\napiVersion: v1\nkind: A\nmetadata: {name: [x\n");
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Catch::Contains("t.yaml:"));
  auto nameless = renderText("apiVersion: v1\nkind: A\n");
  // (metadata.name missing)
  CHECK_FALSE(nameless.ok());
}
