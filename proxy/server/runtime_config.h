// RuntimeConfig: a snapshot made ready for the data path: route tables compiled, clusters
// built with resolved hosts. Immutable once built and shared by pointer with every worker
// (shared_ptr<const RuntimeConfig>); a request keeps the one it started with, so a reload
// never changes the rules under a request in flight.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/base/clock.h"
#include "core/base/status.h"
#include "core/model/snapshot.h"
#include "core/tls/context.h"
#include "proxy/authn/jwt_authenticator.h"
#include "proxy/authz/engine.h"
#include "proxy/router/route_table.h"
#include "proxy/upstream/cluster_info.h"

namespace mesh::proxy {

class RuntimeConfig {
 public:
  // `previous` lends ClusterInfos for clusters whose config is unchanged, so their
  // ejections, breaker counts and statistics survive a reload. `jwks` fetches the keys of
  // RequestAuthentication's jwksUri rules (without one, such rules refuse every token).
  static core::Result<std::shared_ptr<const RuntimeConfig>> build(
      core::model::SnapshotPtr snapshot, const RuntimeConfig* previous, core::Clock& clock,
      authn::JwksFetcher* jwks = nullptr);

  const core::model::Snapshot& snapshot() const { return *snapshot_; }
  const core::model::SnapshotPtr& snapshotPtr() const { return snapshot_; }
  const CompiledRouteTable* routeTable(const std::string& name) const;
  std::shared_ptr<const ClusterInfo> cluster(const std::string& name) const;
  const core::model::Listener* listener(const std::string& name) const;
  // The server context of a gateway listener that terminates TLS; null for the others.
  std::shared_ptr<core::TlsContext> listenerTls(const std::string& name) const;
  const std::map<std::string, std::shared_ptr<const ClusterInfo>>& clusters() const {
    return clusters_;
  }
  // The AuthorizationPolicies of this workload, checked on inbound requests.
  const authz::AuthzEngine& authz() const { return authz_; }
  // The RequestAuthentications of this workload, checked on inbound requests before authz.
  const authn::JwtAuthenticator& authn() const { return authn_; }

 private:
  core::model::SnapshotPtr snapshot_;
  // Route tables of the inbound ports (proxy/inbound/inbound_routes.h); compiled routes
  // point into them, so they stay put.
  std::vector<std::unique_ptr<core::model::RouteTable>> inboundTables_;
  std::map<std::string, std::shared_ptr<const CompiledRouteTable>> routeTables_;
  std::map<std::string, std::shared_ptr<const ClusterInfo>> clusters_;
  std::map<std::string, std::shared_ptr<core::TlsContext>> listenerTls_;
  authz::AuthzEngine authz_;
  authn::JwtAuthenticator authn_;
};

}  // namespace mesh::proxy
