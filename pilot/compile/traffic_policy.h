// DestinationRule -> cluster settings: which DestinationRule applies to a service for a
// proxy, and how its trafficPolicy (top level, then portLevelSettings for the port, then the
// subset's own policy, each overriding what it sets) becomes a cluster's load balancer,
// connection pool, outlier detection and upstream TLS.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "core/config/resource.h"
#include "core/model/cluster.h"
#include "pilot/compile/mesh_view.h"
#include "pilot/compile/scope.h"

namespace mesh::pilot {

// Istio's order: the proxy's own namespace, then the service's, then the root namespace.
const core::config::Resource* findDestinationRule(const MeshView& view, const Scope& scope,
                                                  const Service& service);

// Applies one TrafficPolicy object (possibly with portLevelSettings) to `cluster`. Returns
// whether it set the TLS mode.
bool applyTrafficPolicy(const nlohmann::json& policy, std::uint32_t port,
                        core::model::Cluster& cluster);

}  // namespace mesh::pilot
