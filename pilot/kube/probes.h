// Probe rewriting. Under STRICT mTLS the kubelet's plain-text probes cannot reach the app
// through the sidecar, so each HTTP or TCP probe of an app container is pointed at the
// sidecar's health port (15021) under Istio's path scheme /app-health/<container>/livez,
// /readyz or /startupz; the sidecar runs the original probe against the app over localhost.
// The originals travel to the sidecar as JSON in its ISTIO_KUBE_APP_PROBERS variable, keyed
// by the new path: {"/app-health/web/readyz": {"httpGet": {...}, "timeoutSeconds": 1}}.
// Named ports are resolved to numbers, because the sidecar cannot see the app's port names.
#pragma once

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

namespace mesh::pilot::kube {

// Rewrites the probes of every container in `podSpec["containers"]` in place; returns the
// originals (an empty object when nothing was rewritten). Exec and gRPC probes, probes that
// already target the sidecar, and probes on a port name the container does not declare are
// left as they are.
nlohmann::json rewriteProbes(YAML::Node podSpec);

}  // namespace mesh::pilot::kube
