#include "pilot/kube/inject.h"

#include <optional>

#include "pilot/kube/sidecar.h"
#include "pilot/kube/yaml_docs.h"

namespace mesh::pilot::kube {

using core::Code;
using core::Result;
using core::Status;

namespace {

struct WorkloadKind {
  const char* kind;
  const char* group;                      // apiVersion's group ("" for the core group)
  std::vector<const char*> templatePath;  // from the object to its pod template
};

const std::vector<WorkloadKind>& workloadKinds() {
  static const std::vector<WorkloadKind> kinds = {
      {"Pod", "", {}},
      {"ReplicationController", "", {"spec", "template"}},
      {"Deployment", "apps", {"spec", "template"}},
      {"StatefulSet", "apps", {"spec", "template"}},
      {"DaemonSet", "apps", {"spec", "template"}},
      {"ReplicaSet", "apps", {"spec", "template"}},
      {"Job", "batch", {"spec", "template"}},
      {"CronJob", "batch", {"spec", "jobTemplate", "spec", "template"}},
  };
  return kinds;
}

std::string scalar(const YAML::Node& node, const char* key) { return lookupScalar(node, {key}); }

std::string groupOf(const std::string& apiVersion) {
  auto slash = apiVersion.find('/');
  return slash == std::string::npos ? std::string() : apiVersion.substr(0, slash);
}

const WorkloadKind* workloadKind(const YAML::Node& object) {
  if (!object.IsMap()) return nullptr;
  const std::string kind = scalar(object, "kind");
  std::string group = groupOf(scalar(object, "apiVersion"));
  if (group == "extensions") group = "apps";  // the old home of Deployment and friends
  for (const auto& known : workloadKinds()) {
    if (kind == known.kind && group == known.group) return &known;
  }
  return nullptr;
}

bool isSystemNamespace(const std::string& ns, const InjectOptions& options) {
  return ns == "kube-system" || ns == "kube-public" || ns == "kube-node-lease" ||
         ns == options.controlPlaneNamespace;
}

// The pod's own say: its label first, then its annotation (Istio's order).
std::optional<std::string> podChoice(const YAML::Node& metadata) {
  for (const char* field : {"labels", "annotations"}) {
    const YAML::Node value = lookup(metadata, {field, kInjectAnnotation});
    if (value.IsDefined() && value.IsScalar()) return value.Scalar();
  }
  return std::nullopt;
}

struct Context {
  const InjectOptions& options;
  std::map<std::string, Labels> namespaces;
};

// Finds the pod template along the kind's path; null when a step is missing.
YAML::Node podTemplateOf(YAML::Node object, const WorkloadKind& kind) {
  YAML::Node node = object;
  for (const char* step : kind.templatePath) {
    node.reset(lookup(node, {step}));  // rebinds; operator= would overwrite the parent's value
  }
  return node;
}

std::string objectName(const std::string& kind, const std::string& ns, const std::string& name) {
  return kind + " " + ns + "/" + (name.empty() ? "<unnamed>" : name);
}

// Injects one workload object in place; records what happened; returns whether it changed.
Result<bool> injectObject(YAML::Node object, const WorkloadKind& kind, Context& ctx, int document,
                          std::vector<InjectedObject>& seen) {
  InjectedObject record;
  record.document = document;
  record.kind = kind.kind;
  record.name = lookupScalar(object, {"metadata", "name"});
  record.ns = lookupScalar(object, {"metadata", "namespace"});
  if (record.ns.empty()) record.ns = ctx.options.defaultNamespace;
  YAML::Node pod = podTemplateOf(object, kind);
  if (!pod.IsDefined() || !pod.IsMap()) {
    return core::error(Code::invalid,
                       objectName(record.kind, record.ns, record.name) + ": no pod template");
  }
  bool changed = false;
  if (isInjected(pod)) {
    record.reason = "already injected";
  } else {
    InjectDecision decision =
        decideInjection(pod, record.ns, ctx.namespaces[record.ns], ctx.options);
    record.reason = decision.reason;
    if (decision.inject) {
      if (Status status = injectPod(pod, ctx.options); !status.ok()) {
        return core::error(Code::invalid, objectName(record.kind, record.ns, record.name) + ": " +
                                              status.message());
      }
      record.injected = changed = true;
    }
  }
  seen.push_back(std::move(record));
  return changed;
}

// A document: a workload, a v1 List of them, or anything else (unchanged).
Result<bool> injectNode(YAML::Node root, Context& ctx, int document,
                        std::vector<InjectedObject>& seen) {
  if (const WorkloadKind* kind = workloadKind(root)) {
    return injectObject(root, *kind, ctx, document, seen);
  }
  if (!root.IsMap() || scalar(root, "kind") != "List" || !lookup(root, {"items"}).IsSequence()) {
    return false;
  }
  bool changed = false;
  for (YAML::Node item : root["items"]) {
    if (const WorkloadKind* kind = workloadKind(item)) {
      auto result = injectObject(item, *kind, ctx, document, seen);
      if (!result.ok()) return result;
      changed = changed || *result;
    }
  }
  return changed;
}

void collectNamespace(const YAML::Node& root, std::map<std::string, Labels>& namespaces) {
  if (!root.IsMap() || scalar(root, "kind") != "Namespace" || scalar(root, "apiVersion") != "v1") {
    return;
  }
  const std::string name = lookupScalar(root, {"metadata", "name"});
  if (name.empty()) return;
  Labels labels;
  const YAML::Node declared = lookup(root, {"metadata", "labels"});
  if (declared.IsDefined() && declared.IsMap()) {
    for (const auto& entry : declared) {
      if (entry.first.IsScalar() && entry.second.IsScalar()) {
        labels[entry.first.Scalar()] = entry.second.Scalar();
      }
    }
  }
  namespaces[name] = std::move(labels);
}

std::string where(const RawDocument& raw, int document) {
  return "document " + std::to_string(document) + " (line " + std::to_string(raw.firstLine) + "): ";
}

}  // namespace

InjectDecision decideInjection(const YAML::Node& podTemplate, const std::string& ns,
                               const Labels& namespaceLabels, const InjectOptions& options) {
  if (lookupScalar(podTemplate, {"spec", "hostNetwork"}) == "true") {
    return {false, "host network"};
  }
  if (isSystemNamespace(ns, options)) return {false, "system namespace " + ns};
  auto label = namespaceLabels.find(kNamespaceLabel);
  if (label != namespaceLabels.end() && label->second == "disabled") {
    return {false, "namespace " + ns + " has istio-injection=disabled"};
  }
  if (auto choice = podChoice(lookup(podTemplate, {"metadata"}))) {
    if (*choice == "false") return {false, std::string(kInjectAnnotation) + "=false"};
    if (*choice == "true") return {true, std::string(kInjectAnnotation) + "=true"};
  }
  if (label != namespaceLabels.end() && label->second == "enabled") {
    return {true, "namespace " + ns + " has istio-injection=enabled"};
  }
  if (options.injectByDefault) return {true, "injected by default"};
  return {false, "neither the namespace nor the pod asks for injection"};
}

Result<InjectResult> injectDocuments(std::string_view input, const InjectOptions& options,
                                     const std::map<std::string, Labels>& namespaceLabels) {
  std::vector<RawDocument> raws = splitDocuments(input);
  std::vector<YAML::Node> nodes(raws.size());
  Context ctx{options, namespaceLabels};
  // Parse everything first: a Namespace later in the file still governs the workloads in it.
  for (std::size_t i = 0; i < raws.size(); ++i) {
    if (isEmptyDocument(raws[i].text)) continue;
    try {
      nodes[i] = YAML::Load(raws[i].text);
    } catch (const YAML::Exception& e) {
      return core::error(Code::invalid,
                         "line " + std::to_string(raws[i].firstLine + e.mark.line) + ": " + e.msg);
    }
    collectNamespace(nodes[i], ctx.namespaces);
  }
  InjectResult result;
  for (std::size_t i = 0; i < raws.size(); ++i) {
    const int document = static_cast<int>(i) + 1;
    result.output += raws[i].separator;
    Result<bool> changed = false;
    if (nodes[i].IsDefined() && !nodes[i].IsNull()) {
      try {
        changed = injectNode(nodes[i], ctx, document, result.objects);
      } catch (const YAML::Exception& e) {
        changed = core::error(Code::invalid, std::string("unexpected shape: ") + e.msg);
      }
    }
    if (!changed.ok()) {
      return core::error(Code::invalid, where(raws[i], document) + changed.status().message());
    }
    if (!*changed) {
      result.output += raws[i].text;
      continue;
    }
    result.output += emitYaml(nodes[i]);
  }
  return result;
}

}  // namespace mesh::pilot::kube
