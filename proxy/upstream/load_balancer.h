// Load balancers, one instance per cluster per worker thread (their state, a round-robin
// position or a random generator, is thread-local by construction). Ejected hosts are
// skipped unless fewer than half the hosts are left (Envoy's panic threshold), in which case
// all hosts are used rather than failing every request.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include "proxy/upstream/cluster_info.h"

namespace mesh::proxy {

struct LbContext {
  // RING_HASH: the request's hash (header, cookie, source IP or query parameter); without
  // one the ring picks at random.
  std::optional<uint64_t> hash;
  // A retry tries another host first (Istio's previous-hosts predicate).
  const Host* avoid = nullptr;
};

class LoadBalancer {
 public:
  virtual ~LoadBalancer() = default;
  // Null when the cluster has no hosts.
  virtual Host* choose(const LbContext& context) = 0;
};

std::unique_ptr<LoadBalancer> makeLoadBalancer(const ClusterInfo& cluster, uint64_t seed);

}  // namespace mesh::proxy
