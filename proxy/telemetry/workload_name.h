// Who this workload is, for Istio's labels and the peer metadata exchange. Istio names a
// workload after its controller (the Deployment "reviews-v1", not the pod
// "reviews-v1-5d8f7c9b6-x2k4p"); a sidecar only knows its pod name, so the name is taken
// from --workload or worked out from the pod name by dropping the suffixes Kubernetes adds.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "proxy/telemetry/peer_metadata.h"

namespace mesh::proxy::telemetry {

// "reviews-v1-5d8f7c9b6-x2k4p" (Deployment) -> "reviews-v1"; "fluentd-x2k4p" (DaemonSet,
// Job) -> "fluentd"; "db-0" (StatefulSet) -> "db"; anything else unchanged.
std::string workloadFromPodName(std::string_view pod);

// app: the "app" label, else "app.kubernetes.io/name"; version: "version", else
// "app.kubernetes.io/version" (Istio's order).
PeerMetadata selfMetadata(std::string workload, std::string ns,
                          const std::map<std::string, std::string>& labels, std::string cluster);

}  // namespace mesh::proxy::telemetry
