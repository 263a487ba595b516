// Access log lines in the two forms Istio users parse: Envoy's default text format (Istio's
// `accessLogEncoding: TEXT`) and Istio's JSON encoding with the same fields. A value the
// proxy does not have is "-" in text and null in JSON, as Envoy writes them.
//
// text:
//   [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%"
//   %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS%
//   "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION%
//   %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%"
//   "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER%
//   %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS%
//   %REQUESTED_SERVER_NAME% %ROUTE_NAME%
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mesh::proxy::telemetry {

enum class AccessLogFormat { text, json };

// Views are read during formatAccessLog only; empty means "not known".
struct AccessLogEntry {
  std::chrono::system_clock::time_point start{};
  std::string_view method{}, path{}, protocol{};
  int status = 0;  // 0: no response was sent
  uint32_t flags = 0;
  std::string_view details{};  // RESPONSE_CODE_DETAILS (responseCodeDetails())
  std::string_view upstreamFailure{};
  uint64_t bytesReceived = 0, bytesSent = 0;
  int64_t durationMs = 0;
  std::optional<int64_t> upstreamServiceTimeMs{};
  std::string_view forwardedFor{}, userAgent{}, requestId{}, authority{};
  std::string_view upstreamHost{}, upstreamCluster{}, upstreamLocalAddress{};
  std::string_view downstreamLocalAddress{}, downstreamRemoteAddress{};
  std::string_view requestedServerName{}, routeName{};
};

// Envoy's RESPONSE_CODE_DETAILS for what happened: "via_upstream" for an upstream's answer,
// "route_not_found", "upstream_reset_before_response_started{connection_failure}", ...
std::string_view responseCodeDetails(int status, uint32_t flags, bool upstreamAnswered);

// One line, newline included.
std::string formatAccessLog(const AccessLogEntry& entry, AccessLogFormat format);

// "2026-11-26T00:12:30.123Z", Envoy's START_TIME.
std::string formatStartTime(std::chrono::system_clock::time_point t);

}  // namespace mesh::proxy::telemetry
