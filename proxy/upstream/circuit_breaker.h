// CircuitBreaker: Istio's connectionPool limits for one cluster, counted across all worker
// threads (Envoy's circuit breakers are per cluster, not per thread). Each acquire is one
// relaxed atomic increment that is undone when it would pass the limit; a refused acquire
// means the request gets 503 with flag UO. Counts are released by the RAII Slot, so a request
// that dies on any path gives its slot back.
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>

#include "core/model/cluster.h"

namespace mesh::proxy {

class CircuitBreaker {
 public:
  enum class Resource { connections, pendingRequests, retries, requests };

  explicit CircuitBreaker(const core::model::ConnectionPool& limits) : limits_(limits) {}
  CircuitBreaker(const CircuitBreaker&) = delete;
  CircuitBreaker& operator=(const CircuitBreaker&) = delete;

  // A held unit of one resource; releases it when destroyed or reset().
  class Slot {
   public:
    Slot() = default;
    Slot(std::atomic<uint64_t>* counter) : counter_(counter) {}  // NOLINT
    Slot(Slot&& o) noexcept : counter_(std::exchange(o.counter_, nullptr)) {}
    Slot& operator=(Slot&& o) noexcept {
      if (this != &o) {
        reset();
        counter_ = std::exchange(o.counter_, nullptr);
      }
      return *this;
    }
    ~Slot() { reset(); }
    void reset() {
      if (counter_) std::exchange(counter_, nullptr)->fetch_sub(1, std::memory_order_relaxed);
    }
    explicit operator bool() const { return counter_ != nullptr; }

   private:
    std::atomic<uint64_t>* counter_ = nullptr;
  };

  // An empty Slot when the limit is reached (the overflow is counted).
  Slot tryAcquire(Resource resource);
  bool wouldOverflow(Resource resource) const;
  uint64_t active(Resource resource) const { return counter(resource).load(std::memory_order_relaxed); }
  uint64_t overflows(Resource resource) const {
    return overflows_[static_cast<int>(resource)].load(std::memory_order_relaxed);
  }
  uint64_t limit(Resource resource) const;

 private:
  std::atomic<uint64_t>& counter(Resource r) { return counters_[static_cast<int>(r)]; }
  const std::atomic<uint64_t>& counter(Resource r) const { return counters_[static_cast<int>(r)]; }

  const core::model::ConnectionPool limits_;
  std::atomic<uint64_t> counters_[4] = {};
  std::atomic<uint64_t> overflows_[4] = {};
};

}  // namespace mesh::proxy
