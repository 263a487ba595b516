#include "proxy/http/filters/fault_filter.h"

#include <random>

#include "proxy/http/active_request.h"
#include "proxy/http/response_flags.h"

namespace mesh::proxy {

namespace {
bool roll(ActiveRequest& request, double percent) {
  if (percent >= 100) return true;
  if (percent <= 0) return false;
  std::uniform_real_distribution<double> dist(0, 100);
  return dist(request.worker().rng) < percent;
}
}  // namespace

FilterStatus FaultFilter::onRequestHeaders(ActiveRequest& request) {
  const auto& fault = *request.route().route->config->fault;
  if (fault.delayMs && roll(request, fault.delayPercent)) {
    request.addFlags(kDelayInjected);
    delay_ = std::make_unique<core::Timer>(request.loop());
    delay_->start(std::chrono::milliseconds(*fault.delayMs), [this, &request] {
      if (abortMaybe(request) == FilterStatus::kContinue) request.continueDecoding();
    });
    return FilterStatus::kStop;
  }
  return abortMaybe(request);
}

FilterStatus FaultFilter::abortMaybe(ActiveRequest& request) {
  const auto& fault = *request.route().route->config->fault;
  if (fault.abortStatus && roll(request, fault.abortPercent)) {
    request.sendLocalReply(static_cast<int>(*fault.abortStatus), "fault filter abort\n",
                           kFaultInjected);
    return FilterStatus::kStop;
  }
  return FilterStatus::kContinue;
}

}  // namespace mesh::proxy
