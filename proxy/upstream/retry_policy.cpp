#include "proxy/upstream/retry_policy.h"

#include <algorithm>
#include <charconv>

namespace mesh::proxy {

RetryPolicy RetryPolicy::fromRoute(const std::optional<core::model::Retries>& retries) {
  static const core::model::Retries kIstioDefault;
  const core::model::Retries& config = retries ? *retries : kIstioDefault;
  RetryPolicy p;
  p.maxRetries_ = config.attempts;
  p.perTryTimeout_ = std::chrono::milliseconds(config.perTryTimeoutMs);
  bool retriableCodes = false;
  std::string_view list = config.retryOn;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    int code = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), code);
    if (ec == std::errc() && end == item.data() + item.size() && !item.empty()) {
      p.statusCodes_.push_back(code);
    } else if (item == "5xx") {
      p.on5xx_ = true;
    } else if (item == "gateway-error") {
      p.onGatewayError_ = true;
    } else if (item == "reset") {
      p.onReset_ = true;
    } else if (item == "connect-failure") {
      p.onConnectFailure_ = true;
    } else if (item == "refused-stream") {
      p.onRefusedStream_ = true;
    } else if (item == "retriable-status-codes") {
      retriableCodes = true;
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  // Istio pairs retriable-status-codes with 503 when no code is listed.
  if (retriableCodes && p.statusCodes_.empty()) p.statusCodes_.push_back(503);
  return p;
}

bool RetryPolicy::retriesStatus(int status) const {
  if (on5xx_ && status >= 500 && status <= 599) return true;
  if (onGatewayError_ && (status == 502 || status == 503 || status == 504)) return true;
  return std::find(statusCodes_.begin(), statusCodes_.end(), status) != statusCodes_.end();
}

bool RetryPolicy::retriesFailure(AttemptFailure failure) const {
  switch (failure) {
    case AttemptFailure::connectFailure:
      return onConnectFailure_ || on5xx_ || onGatewayError_ || onReset_;
    case AttemptFailure::refused:
      return onRefusedStream_ || onReset_ || on5xx_ || onGatewayError_ || onConnectFailure_;
    case AttemptFailure::reset:
    case AttemptFailure::protocolError:
      return onReset_ || on5xx_ || onGatewayError_;
    case AttemptFailure::perTryTimeout:
      return on5xx_ || onGatewayError_ || onReset_;
  }
  return false;
}

std::chrono::milliseconds RetryPolicy::backoff(uint32_t retryNumber, uint64_t dice) {
  uint64_t ceiling = 25u << std::min<uint32_t>(retryNumber > 0 ? retryNumber - 1 : 0, 4);
  ceiling = std::min<uint64_t>(ceiling, 250);
  return std::chrono::milliseconds(dice % ceiling);
}

}  // namespace mesh::proxy
