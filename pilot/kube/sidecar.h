// Adding the sidecar to one pod (a Pod or a workload's pod template): the init container
// that sets up traffic capture (`mesh proxy iptables`, NET_ADMIN and NET_RAW only), the
// sidecar itself as a native sidecar (an init container with restartPolicy Always, so it
// starts before the app, is ready before the app starts, and ends with a Job's containers),
// its volumes, probe rewriting, and the annotations that record what was added.
#pragma once

#include <yaml-cpp/yaml.h>

#include "core/base/status.h"
#include "pilot/kube/inject_options.h"

namespace mesh::pilot::kube {

// True when the pod already carries mesh's sidecar (the status annotation or the container).
bool isInjected(const YAML::Node& podTemplate);

// Mutates `podTemplate` (a map with "metadata" and "spec") in place. The spec must have a
// non-empty "containers" list.
core::Status injectPod(YAML::Node podTemplate, const InjectOptions& options);

}  // namespace mesh::pilot::kube
