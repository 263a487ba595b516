#include "proxy/server/runtime_config.h"

#include "core/model/json.h"
#include "proxy/gateway/server_context.h"
#include "proxy/inbound/inbound_routes.h"

namespace mesh::proxy {

core::Result<std::shared_ptr<const RuntimeConfig>> RuntimeConfig::build(
    core::model::SnapshotPtr snapshot, const RuntimeConfig* previous, core::Clock& clock,
    authn::JwksFetcher* jwks) {
  auto config = std::make_shared<RuntimeConfig>();
  config->snapshot_ = std::move(snapshot);
  for (const auto& table : config->snapshot_->routeTables) {
    auto compiled = CompiledRouteTable::compile(table);
    if (!compiled.ok()) return compiled.status();
    config->routeTables_[table.name] = std::move(*compiled);
  }
  auto authz = authz::AuthzEngine::compile(config->snapshot_->authorizationPolicies);
  if (!authz.ok()) return authz.status();
  config->authz_ = std::move(*authz);
  auto authn = authn::JwtAuthenticator::compile(config->snapshot_->requestAuthentications, jwks);
  if (!authn.ok()) return authn.status();
  config->authn_ = std::move(*authn);
  core::Status inbound;
  forEachInboundCluster(*config->snapshot_, [&](const std::string& cluster) {
    if (!inbound.ok() || config->routeTables_.count(cluster)) return;
    auto& table = config->inboundTables_.emplace_back(
        std::make_unique<core::model::RouteTable>(inboundRouteTable(cluster)));
    auto compiled = CompiledRouteTable::compile(*table);
    if (!compiled.ok()) inbound = compiled.status();
    else config->routeTables_[cluster] = std::move(*compiled);
  });
  if (!inbound.ok()) return inbound;
  for (const auto& cluster : config->snapshot_->clusters) {
    if (previous) {
      auto old = previous->clusters_.find(cluster.name);
      if (old != previous->clusters_.end()) {
        nlohmann::json a = old->second->config(), b = cluster;
        if (a == b) {
          config->clusters_[cluster.name] = old->second;
          continue;
        }
      }
    }
    auto info = ClusterInfo::build(cluster, clock);
    if (!info.ok()) return info.status();
    config->clusters_[cluster.name] = std::move(*info);
  }
  for (const auto& l : config->snapshot_->listeners) {
    if (!l.hasTls) continue;
    auto tls = gatewayServerContext(l);
    if (!tls.ok()) {
      return core::error(tls.status().code(), "listener " + l.name + ": " + tls.status().message());
    }
    config->listenerTls_[l.name] = std::move(*tls);
  }
  return std::shared_ptr<const RuntimeConfig>(std::move(config));
}

const CompiledRouteTable* RuntimeConfig::routeTable(const std::string& name) const {
  auto it = routeTables_.find(name);
  return it == routeTables_.end() ? nullptr : it->second.get();
}

std::shared_ptr<const ClusterInfo> RuntimeConfig::cluster(const std::string& name) const {
  auto it = clusters_.find(name);
  return it == clusters_.end() ? nullptr : it->second;
}

const core::model::Listener* RuntimeConfig::listener(const std::string& name) const {
  for (const auto& l : snapshot_->listeners) {
    if (l.name == name) return &l;
  }
  return nullptr;
}

std::shared_ptr<core::TlsContext> RuntimeConfig::listenerTls(const std::string& name) const {
  auto it = listenerTls_.find(name);
  return it == listenerTls_.end() ? nullptr : it->second;
}

}  // namespace mesh::proxy
