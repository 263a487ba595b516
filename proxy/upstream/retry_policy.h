// RetryPolicy: a route's retries block turned into decisions. Istio's defaults apply when a
// route has none: 2 retries on connect-failure, refused-stream, unavailable, cancelled and
// retriable-status-codes (503). retryOn is Envoy's list: 5xx, gateway-error (502/503/504),
// reset, connect-failure, refused-stream, retriable-status-codes, and bare status codes
// ("503") which are retriable status codes. For HTTP/1.1, refused-stream is a pooled
// keep-alive connection that the upstream closed before answering: the request never
// reached the application, so it is always safe to send again. unavailable and cancelled
// are gRPC conditions and do not apply to HTTP/1.1.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/model/route.h"

namespace mesh::proxy {

// Why an attempt ended without a usable response.
enum class AttemptFailure {
  connectFailure,  // could not connect (or connect timeout)
  refused,         // a reused connection closed before any response byte
  reset,           // the connection broke after the request went out
  protocolError,   // the upstream's answer is not HTTP/1.1 (a reset, for retries)
  perTryTimeout,
};

class RetryPolicy {
 public:
  static RetryPolicy fromRoute(const std::optional<core::model::Retries>& retries);

  uint32_t maxRetries() const { return maxRetries_; }
  std::chrono::milliseconds perTryTimeout() const { return perTryTimeout_; }
  bool retriesStatus(int status) const;
  bool retriesFailure(AttemptFailure failure) const;
  // Envoy's back-off: a random time below 25 ms * 2^(retry-1), capped at 250 ms; `dice` is
  // a random number.
  static std::chrono::milliseconds backoff(uint32_t retryNumber, uint64_t dice);

 private:
  uint32_t maxRetries_ = 0;
  std::chrono::milliseconds perTryTimeout_{0};
  bool on5xx_ = false;
  bool onGatewayError_ = false;
  bool onReset_ = false;
  bool onConnectFailure_ = false;
  bool onRefusedStream_ = false;
  std::vector<int> statusCodes_;
};

}  // namespace mesh::proxy
