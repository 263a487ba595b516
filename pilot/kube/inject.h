// `mesh inject`: sidecar injection over Kubernetes YAML. Every workload kind that makes pods
// (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob,
// and the same inside a v1 List) is injected unless the policy says no; every other document
// is copied through byte for byte, in order. Injecting an injected document changes nothing.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/base/status.h"
#include "pilot/kube/inject_options.h"

namespace mesh::pilot::kube {

using Labels = std::map<std::string, std::string>;

struct InjectDecision {
  bool inject = false;
  std::string reason;  // why not, or why yes, in a few words
};

// Istio's rules, in order: no injection for host-network pods, the system and control-plane
// namespaces, or namespaces labelled istio-injection=disabled; then the pod's
// sidecar.istio.io/inject label or annotation ("false" wins over everything below, "true"
// injects); then the namespace label istio-injection=enabled; then options.injectByDefault.
InjectDecision decideInjection(const YAML::Node& podTemplate, const std::string& ns,
                               const Labels& namespaceLabels, const InjectOptions& options);

struct InjectedObject {
  int document = 0;  // 1-based position in the input
  std::string kind, ns, name;
  bool injected = false;
  std::string reason;
};

struct InjectResult {
  std::string output;
  std::vector<InjectedObject> objects;  // the workloads seen, injected or not
};

// Injects a multi-document YAML stream. `namespaceLabels` gives the labels of namespaces that
// the input does not define itself (Namespace documents in the input win). Errors name the
// document, its first line and the object.
core::Result<InjectResult> injectDocuments(
    std::string_view input, const InjectOptions& options,
    const std::map<std::string, Labels>& namespaceLabels = {});

}  // namespace mesh::pilot::kube
