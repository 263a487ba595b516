// ClusterInfo: one cluster of the running snapshot as the data path uses it: its model
// config, its hosts with resolved addresses and shared state, its circuit breaker, outlier
// detector and (for RING_HASH) hash ring. Built once per snapshot on the main thread and
// shared by the worker threads; a reload keeps the ClusterInfo of a cluster whose config did
// not change, so ejections and breaker counts carry over.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/clock.h"
#include "core/base/status.h"
#include "core/model/cluster.h"
#include "proxy/upstream/circuit_breaker.h"
#include "proxy/upstream/host.h"
#include "proxy/upstream/outlier_detector.h"

namespace mesh::proxy {

// A stable 64-bit hash (FNV-1a with a final mix) for ring placement and request keys.
uint64_t hashKey(std::string_view key);

class ClusterInfo {
 public:
  // Resolves endpoint names (numeric addresses need no lookup). Fails when one cannot be
  // resolved.
  static core::Result<std::shared_ptr<ClusterInfo>> build(const core::model::Cluster& config,
                                                          core::Clock& clock);
  ClusterInfo(const ClusterInfo&) = delete;
  ClusterInfo& operator=(const ClusterInfo&) = delete;

  const core::model::Cluster& config() const { return config_; }
  const std::string& name() const { return config_.name; }
  const std::vector<std::unique_ptr<Host>>& hosts() const { return hosts_; }
  CircuitBreaker& breaker() const { return breaker_; }
  OutlierDetector* outlier() const { return outlier_.get(); }
  bool isEjected(const Host& host) const { return outlier_ && outlier_->isEjected(host); }
  // RING_HASH: the ring, sorted by hash; entries are indexes into hosts().
  const std::vector<std::pair<uint64_t, uint32_t>>& ring() const { return ring_; }

  // Counters for /stats and /clusters.
  mutable std::atomic<uint64_t> requestsTotal{0};
  mutable std::atomic<uint64_t> retries{0};
  mutable std::atomic<uint64_t> noHealthyUpstream{0};
  mutable std::atomic<uint64_t> timeouts{0};

 private:
  explicit ClusterInfo(const core::model::Cluster& config);
  void buildRing();

  const core::model::Cluster config_;
  std::vector<std::unique_ptr<Host>> hosts_;
  mutable CircuitBreaker breaker_;
  std::unique_ptr<OutlierDetector> outlier_;
  std::vector<std::pair<uint64_t, uint32_t>> ring_;
};

}  // namespace mesh::proxy
