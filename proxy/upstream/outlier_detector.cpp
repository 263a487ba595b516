#include "proxy/upstream/outlier_detector.h"

#include <chrono>

#include "core/base/log.h"

namespace mesh::proxy {

OutlierDetector::OutlierDetector(const core::model::OutlierDetection& config, core::Clock& clock,
                                 const std::vector<std::unique_ptr<Host>>& hosts)
    : config_(config), clock_(clock), hosts_(hosts) {}

int64_t OutlierDetector::nowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             clock_.monotonic().time_since_epoch())
      .count();
}

bool OutlierDetector::isEjected(const Host& host) const {
  int64_t until = host.ejectedUntilMs.load(std::memory_order_relaxed);
  return until != 0 && nowMs() < until;
}

size_t OutlierDetector::ejectedCount() const {
  size_t n = 0;
  for (const auto& h : hosts_) n += isEjected(*h) ? 1 : 0;
  return n;
}

void OutlierDetector::report(Host& host, Result result) {
  constexpr auto relaxed = std::memory_order_relaxed;
  bool trip = false;
  switch (result) {
    case Result::success:
      host.consecutive5xx.store(0, relaxed);
      host.consecutiveGatewayErrors.store(0, relaxed);
      return;
    case Result::error5xx:
      host.consecutiveGatewayErrors.store(0, relaxed);
      trip = config_.consecutive5xxErrors &&
             host.consecutive5xx.fetch_add(1, relaxed) + 1 >= config_.consecutive5xxErrors;
      break;
    case Result::gatewayError:
    case Result::localFailure: {
      // A gateway error is a 5xx as well, and counts towards both streaks.
      uint32_t fives = host.consecutive5xx.fetch_add(1, relaxed) + 1;
      uint32_t gateways = host.consecutiveGatewayErrors.fetch_add(1, relaxed) + 1;
      trip = (config_.consecutive5xxErrors && fives >= config_.consecutive5xxErrors) ||
             (config_.consecutiveGatewayErrors && gateways >= config_.consecutiveGatewayErrors);
      break;
    }
  }
  if (trip) maybeEject(host);
}

void OutlierDetector::maybeEject(Host& host) {
  constexpr auto relaxed = std::memory_order_relaxed;
  if (isEjected(host)) return;
  size_t ejected = ejectedCount();
  // Envoy's rule: never more than maxEjectionPercent, but at least one host may go.
  if (ejected > 0 && (ejected + 1) * 100 > config_.maxEjectionPercent * hosts_.size()) return;
  uint32_t times = host.ejections.fetch_add(1, relaxed) + 1;
  int64_t until = nowMs() + static_cast<int64_t>(config_.baseEjectionTimeMs) * times;
  host.ejectedUntilMs.store(until, relaxed);
  host.consecutive5xx.store(0, relaxed);
  host.consecutiveGatewayErrors.store(0, relaxed);
  LOG_INFO("outlier", "ejected ", host.address.toString(), " for ",
           config_.baseEjectionTimeMs * times, " ms (ejection ", times, ")");
}

}  // namespace mesh::proxy
