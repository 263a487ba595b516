#include "pilot/compile/traffic_policy.h"

#include "core/config/duration.h"
#include "pilot/registry/spec_access.h"

namespace mesh::pilot {

using core::config::Resource;
using core::model::Cluster;

const Resource* findDestinationRule(const MeshView& view, const Scope& scope,
                                    const Service& service) {
  const Resource* best = nullptr;
  int bestRank = 99;
  for (const Resource* r : view.ofKind("DestinationRule")) {
    if (!scope.exported(*r)) continue;
    std::string host = view.services().qualify(specString(r->spec, "host"), r->ns);
    if (!hostMatches(host, service.host)) continue;
    int rank = r->ns == scope.ns() ? 0 : r->ns == service.ns ? 1
               : r->ns == view.settings().rootNamespace ? 2 : 3;
    if (rank < bestRank) {
      best = r;
      bestRank = rank;
    }
  }
  return best;
}

namespace {

std::uint32_t millis(const nlohmann::json& j, const char* key, std::uint32_t fallback) {
  std::string text = specString(j, key);
  if (text.empty()) return fallback;
  auto d = core::config::parseDuration(text);
  return d ? static_cast<std::uint32_t>(d->count()) : fallback;
}

void applyLoadBalancer(const nlohmann::json& lb, Cluster& c) {
  using Policy = core::model::LoadBalancer::Policy;
  std::string simple = specString(lb, "simple");
  if (simple == "ROUND_ROBIN") c.loadBalancer.policy = Policy::round_robin;
  if (simple == "LEAST_REQUEST" || simple == "LEAST_CONN") c.loadBalancer.policy = Policy::least_request;
  if (simple == "RANDOM") c.loadBalancer.policy = Policy::random;
  if (simple == "PASSTHROUGH") c.loadBalancer.policy = Policy::passthrough;
  const auto& hash = specChild(lb, "consistentHash");
  if (hash.is_object()) {
    c.loadBalancer.policy = Policy::ring_hash;
    c.loadBalancer.hashHeader = specString(hash, "httpHeaderName");
    c.loadBalancer.hashCookie = specString(specChild(hash, "httpCookie"), "name");
    c.loadBalancer.hashSourceIp = specChild(hash, "useSourceIp").is_boolean() &&
                                  hash["useSourceIp"].get<bool>();
    c.loadBalancer.hashQueryParameter = specString(hash, "httpQueryParameterName");
  }
}

void applyPool(const nlohmann::json& pool, Cluster& c) {
  const auto& tcp = specChild(pool, "tcp");
  c.pool.maxConnections = specUint(tcp, "maxConnections", c.pool.maxConnections);
  c.pool.connectTimeoutMs = millis(tcp, "connectTimeout", c.pool.connectTimeoutMs);
  const auto& http = specChild(pool, "http");
  c.pool.maxPendingRequests = specUint(http, "http1MaxPendingRequests", c.pool.maxPendingRequests);
  c.pool.maxRequestsPerConnection =
      specUint(http, "maxRequestsPerConnection", c.pool.maxRequestsPerConnection);
  c.pool.maxRetries = specUint(http, "maxRetries", c.pool.maxRetries);
  c.pool.idleTimeoutMs = millis(http, "idleTimeout", c.pool.idleTimeoutMs);
}

void applyOutlier(const nlohmann::json& o, Cluster& c) {
  core::model::OutlierDetection d = c.outlier.value_or(core::model::OutlierDetection{});
  d.consecutive5xxErrors = specUint(o, "consecutive5xxErrors", d.consecutive5xxErrors);
  d.consecutiveGatewayErrors = specUint(o, "consecutiveGatewayErrors", d.consecutiveGatewayErrors);
  d.intervalMs = millis(o, "interval", d.intervalMs);
  d.baseEjectionTimeMs = millis(o, "baseEjectionTime", d.baseEjectionTimeMs);
  d.maxEjectionPercent = specUint(o, "maxEjectionPercent", d.maxEjectionPercent);
  c.outlier = d;
}

bool applyTls(const nlohmann::json& tls, Cluster& c) {
  using Mode = core::model::UpstreamTls::Mode;
  std::string mode = specString(tls, "mode");
  if (mode.empty()) return false;
  c.tls.mode = mode == "SIMPLE" ? Mode::simple : mode == "MUTUAL" ? Mode::mutual
               : mode == "ISTIO_MUTUAL" ? Mode::istio_mutual : Mode::disable;
  c.tls.sni = specString(tls, "sni");
  c.tls.caCertificates = specString(tls, "caCertificates");
  c.tls.clientCertificate = specString(tls, "clientCertificate");
  c.tls.privateKey = specString(tls, "privateKey");
  return true;
}

bool applyOne(const nlohmann::json& p, Cluster& c) {
  if (specChild(p, "loadBalancer").is_object()) applyLoadBalancer(p["loadBalancer"], c);
  if (specChild(p, "connectionPool").is_object()) applyPool(p["connectionPool"], c);
  if (specChild(p, "outlierDetection").is_object()) applyOutlier(p["outlierDetection"], c);
  return specChild(p, "tls").is_object() && applyTls(p["tls"], c);
}

}  // namespace

bool applyTrafficPolicy(const nlohmann::json& policy, std::uint32_t port, Cluster& cluster) {
  if (!policy.is_object()) return false;
  bool tls = applyOne(policy, cluster);
  const auto& levels = specChild(policy, "portLevelSettings");
  if (levels.is_array()) {
    for (const auto& level : levels) {
      if (specUint(specChild(level, "port"), "number") == port) tls = applyOne(level, cluster) || tls;
    }
  }
  return tls;
}

}  // namespace mesh::pilot
