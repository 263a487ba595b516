#include "proxy/upstream/circuit_breaker.h"

#include <limits>

namespace mesh::proxy {

uint64_t CircuitBreaker::limit(Resource resource) const {
  switch (resource) {
    case Resource::connections: return limits_.maxConnections;
    case Resource::pendingRequests: return limits_.maxPendingRequests;
    case Resource::retries: return limits_.maxRetries;
    case Resource::requests: return std::numeric_limits<uint32_t>::max();
  }
  return 0;
}

bool CircuitBreaker::wouldOverflow(Resource resource) const {
  return active(resource) >= limit(resource);
}

CircuitBreaker::Slot CircuitBreaker::tryAcquire(Resource resource) {
  auto& c = counter(resource);
  if (c.fetch_add(1, std::memory_order_relaxed) >= limit(resource)) {
    c.fetch_sub(1, std::memory_order_relaxed);
    overflows_[static_cast<int>(resource)].fetch_add(1, std::memory_order_relaxed);
    return {};
  }
  return Slot(&c);
}

}  // namespace mesh::proxy
