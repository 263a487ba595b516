// The inbound half of a proxy's config, which depends on the proxy itself (its namespace,
// labels and ports): the inbound listener with each workload port's protocol and mTLS mode
// (PeerAuthentication resolved workload > namespace > mesh, portLevelMtls last), the
// "inbound|<port>||" clusters to the local app, and the AuthorizationPolicy and
// RequestAuthentication resources that select the workload.
#pragma once

#include <nlohmann/json.hpp>

#include "core/model/cluster.h"
#include "core/model/listener.h"
#include "pilot/compile/mesh_view.h"

namespace mesh::pilot {

struct InboundConfig {
  core::model::Listener listener;
  std::vector<core::model::Cluster> clusters;
  nlohmann::json authorizationPolicies = nlohmann::json::array();
  nlohmann::json requestAuthentications = nlohmann::json::array();
};

InboundConfig compileInbound(const MeshView& view, const ProxyInfo& proxy);

// The PeerAuthentication mode for one port of a workload (exposed for tests and /debug).
core::model::MtlsMode resolveMtls(const MeshView& view, const ProxyInfo& proxy,
                                  std::uint32_t port);

}  // namespace mesh::pilot
