// The proxy-level upstream model: a cluster is a set of endpoints for one service, port and
// subset, plus how to balance, pool, protect and secure connections to them (Istio's
// DestinationRule traffic policy, resolved by pilot). Names follow Istio's convention,
// "outbound|9080|v1|reviews.default.svc.cluster.local", so users' habits carry over.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mesh::core::model {

struct Endpoint {
  std::string address;  // IP or host name
  uint32_t port = 0;
  uint32_t weight = 1;
  std::map<std::string, std::string> labels;
  std::string identity;  // the SPIFFE id its sidecar presents; empty for non-mesh endpoints
  // The endpoint's sidecar inbound port when traffic goes through it (mTLS), else 0.
  uint32_t sidecarPort = 0;
};

struct LoadBalancer {
  enum class Policy { round_robin, least_request, random, passthrough, ring_hash };
  Policy policy = Policy::round_robin;
  // ring_hash: what the hash is taken from (one of them).
  std::string hashHeader;
  std::string hashCookie;
  bool hashSourceIp = false;
  std::string hashQueryParameter;
};

struct ConnectionPool {
  uint32_t maxConnections = 4'294'967'295u;  // Istio: effectively unlimited
  uint32_t connectTimeoutMs = 10'000;
  uint32_t maxPendingRequests = 4'294'967'295u;
  uint32_t maxRequestsPerConnection = 0;  // 0: unlimited
  uint32_t maxRetries = 4'294'967'295u;
  uint32_t idleTimeoutMs = 3'600'000;
};

struct OutlierDetection {
  uint32_t consecutive5xxErrors = 0;       // 0: off
  uint32_t consecutiveGatewayErrors = 0;   // 0: off
  uint32_t intervalMs = 10'000;
  uint32_t baseEjectionTimeMs = 30'000;
  uint32_t maxEjectionPercent = 10;
};

struct UpstreamTls {
  enum class Mode { disable, simple, mutual, istio_mutual };
  Mode mode = Mode::disable;
  std::string sni;
  // istio_mutual: the identities the server may present (empty: any in the trust domain).
  std::vector<std::string> identities;
  // simple/mutual: files as in Istio's ClientTLSSettings.
  std::string caCertificates;
  std::string clientCertificate;
  std::string privateKey;
};

struct Cluster {
  std::string name;
  std::string service;  // FQDN, e.g. reviews.default.svc.cluster.local
  uint32_t port = 0;
  std::string subset;
  LoadBalancer loadBalancer;
  ConnectionPool pool;
  std::optional<OutlierDetection> outlier;
  UpstreamTls tls;
  // "tcp" or "http" (from the port's protocol or name prefix).
  std::string protocol = "http";
  std::vector<Endpoint> endpoints;
  std::string destinationRule;  // "name.namespace" of the one applied, shown by proxy-config
};

}  // namespace mesh::core::model
