// Exponential backoff with full jitter for reconnecting clients: after the n-th failure in a
// row the delay is uniform in [0, min(max, initial * 2^n)]. Jitter spreads the reconnects of
// thousands of proxies when pilot or the CA restarts, instead of a synchronised stampede.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace mesh::core {

class Backoff {
 public:
  using Duration = std::chrono::milliseconds;

  explicit Backoff(Duration initial = Duration(100), Duration max = Duration(30'000),
                   std::uint64_t seed = std::random_device{}())
      : initial_(initial), max_(max), random_(seed) {}

  // The delay before the next attempt; each call counts one more failure.
  Duration next();
  // After a success: the next failure starts again from `initial`.
  void reset() { failures_ = 0; }
  int failures() const { return failures_; }
  // The upper bound of the delay next() would draw from now.
  Duration ceiling() const;

 private:
  Duration initial_;
  Duration max_;
  int failures_ = 0;
  std::mt19937_64 random_;
};

}  // namespace mesh::core
