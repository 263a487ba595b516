// Response flags: why a request did not get an ordinary upstream answer, in Envoy's short
// codes that Istio users already read in access logs (UH, UF, UO, NR, ...). A request
// collects them as a bit set; they are written in the access log line and in the
// `x-mesh-response-flags` header of the response the client gets.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mesh::proxy {

enum ResponseFlag : uint32_t {
  kNoHealthyUpstream = 1u << 0,            // UH
  kUpstreamConnectFailure = 1u << 1,       // UF
  kUpstreamOverflow = 1u << 2,             // UO
  kNoRoute = 1u << 3,                      // NR
  kUpstreamRetryLimitExceeded = 1u << 4,   // URX
  kUpstreamRequestTimeout = 1u << 5,       // UT
  kUpstreamConnectionTermination = 1u << 6,  // UC
  kDownstreamConnectionTermination = 1u << 7,  // DC
  kDelayInjected = 1u << 8,                // DI
  kFaultInjected = 1u << 9,                // FI
  kDownstreamProtocolError = 1u << 10,     // DPE
  kUpstreamProtocolError = 1u << 11,       // UPE
};

inline constexpr std::string_view kResponseFlagsHeader = "x-mesh-response-flags";

// "UF,URX" in a fixed order; "-" when no flag is set (as Envoy logs it).
std::string responseFlagsString(uint32_t flags);

}  // namespace mesh::proxy
