// Snapshot: one proxy's whole configuration, as pilot sends it in a `snapshot` frame or as
// `mesh proxy --config FILE` reads it. It is immutable once built and shared by pointer
// (shared_ptr<const Snapshot>), so a config swap is one pointer store and requests in flight
// finish on the snapshot they started with.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/status.h"
#include "core/model/cluster.h"
#include "core/model/listener.h"
#include "core/model/route.h"

namespace mesh::core::model {

struct Snapshot {
  std::string version;
  std::vector<Listener> listeners;
  std::vector<RouteTable> routeTables;
  std::vector<Cluster> clusters;
  // Istio's meshConfig.outboundTrafficPolicy: ALLOW_ANY passes unknown destinations through,
  // REGISTRY_ONLY refuses them (502 with flag NR, or a closed TCP connection).
  std::string outboundTrafficPolicy = "ALLOW_ANY";
  // AuthorizationPolicy and RequestAuthentication resources that apply to this workload, in
  // Istio's own shape ({"name", "namespace", "spec"}), for the policy filters to compile.
  nlohmann::json authorizationPolicies = nlohmann::json::array();
  nlohmann::json requestAuthentications = nlohmann::json::array();

  const Cluster* findCluster(const std::string& name) const;
  const RouteTable* findRouteTable(const std::string& name) const;
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

// Reads a snapshot from its JSON form. Errors name the place: "clusters[2]
// (outbound|9080||reviews.default.svc.cluster.local): loadBalancer.policy: unknown value
// \"FASTEST\"". References are checked too: every route's clusters and every listener's route
// table must exist.
Result<Snapshot> parseSnapshot(const nlohmann::json& json);
nlohmann::json toJson(const Snapshot& snapshot);
// toJson for showing (a proxy's /config_dump): private keys read "[redacted]".
nlohmann::json toRedactedJson(const Snapshot& snapshot);
// The reference checks parseSnapshot() runs, for a snapshot built another way (applyDelta).
Status checkReferences(const Snapshot& snapshot);

}  // namespace mesh::core::model
