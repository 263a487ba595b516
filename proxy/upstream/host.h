// Host: one endpoint of a cluster with the state every worker thread shares about it:
// active requests (for LEAST_REQUEST), the outlier detector's error streaks and ejection,
// and the counters /clusters shows. All of it is relaxed atomics, so workers update it
// without a lock; per-thread state (connection pools, round-robin position) lives elsewhere.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "core/loop/address.h"
#include "core/model/cluster.h"

namespace mesh::proxy {

struct Host {
  Host(const core::model::Endpoint& endpoint, core::SocketAddress resolved)
      : config(endpoint), address(resolved), addressText(resolved.toString()) {}
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  const core::model::Endpoint config;
  const core::SocketAddress address;
  const std::string addressText;  // "ip:port", formatted once: every request logs it

  std::atomic<uint64_t> activeRequests{0};
  std::atomic<uint64_t> activeConnections{0};
  std::atomic<uint64_t> requestsTotal{0};
  std::atomic<uint64_t> requestsFailed{0};  // 5xx, resets, connect failures
  std::atomic<uint64_t> connectFailures{0};
  // Outlier detection (outlier_detector.h).
  std::atomic<uint32_t> consecutive5xx{0};
  std::atomic<uint32_t> consecutiveGatewayErrors{0};
  std::atomic<int64_t> ejectedUntilMs{0};  // monotonic ms; 0 or past: not ejected
  std::atomic<uint32_t> ejections{0};
};

}  // namespace mesh::proxy
