// The route an inbound connection's requests take: every request for a workload port goes
// to that port's local app cluster ("inbound|9080||"), with no retries (the calling
// sidecar retries; retrying here too would multiply attempts). RuntimeConfig compiles one
// such table per inbound cluster, named after the cluster.
#pragma once

#include <string>

#include "core/model/route.h"
#include "core/model/snapshot.h"

namespace mesh::proxy {

core::model::RouteTable inboundRouteTable(const std::string& cluster);

// Calls `f(cluster)` once for each inbound port cluster of the snapshot's INBOUND listeners.
template <typename F>
void forEachInboundCluster(const core::model::Snapshot& snapshot, F&& f) {
  for (const auto& listener : snapshot.listeners) {
    if (listener.direction != core::model::Listener::Direction::inbound) continue;
    for (const auto& port : listener.inboundPorts) f(port.cluster);
  }
}

}  // namespace mesh::proxy
