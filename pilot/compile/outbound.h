// The outbound half of a proxy's config: a cluster per visible service port (and per
// DestinationRule subset), one route table "outbound" with a virtual host per HTTP service
// port (VirtualService routes, or a default route to the service), the capture listener
// that uses it, and a TCP listener per TCP service port that has an address. It depends only
// on the Scope (namespace and Sidecar), so all proxies of one scope share one compilation.
#pragma once

#include <vector>

#include "core/model/cluster.h"
#include "core/model/listener.h"
#include "core/model/route.h"
#include "pilot/compile/mesh_view.h"
#include "pilot/compile/scope.h"

namespace mesh::pilot {

struct OutboundConfig {
  std::vector<core::model::Listener> listeners;
  std::vector<core::model::RouteTable> routeTables;
  std::vector<core::model::Cluster> clusters;
  std::string outboundTrafficPolicy;
};

OutboundConfig compileOutbound(const MeshView& view, const Scope& scope);
// Only the clusters of compileOutbound (what a gateway routes to), without the route table.
std::vector<core::model::Cluster> compileClusters(const MeshView& view, const Scope& scope);

}  // namespace mesh::pilot
