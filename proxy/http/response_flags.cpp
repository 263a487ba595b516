#include "proxy/http/response_flags.h"

#include <utility>

namespace mesh::proxy {

std::string responseFlagsString(uint32_t flags) {
  static constexpr std::pair<uint32_t, std::string_view> kNames[] = {
      {kNoHealthyUpstream, "UH"},
      {kUpstreamConnectFailure, "UF"},
      {kUpstreamOverflow, "UO"},
      {kNoRoute, "NR"},
      {kUpstreamRetryLimitExceeded, "URX"},
      {kUpstreamRequestTimeout, "UT"},
      {kUpstreamConnectionTermination, "UC"},
      {kDownstreamConnectionTermination, "DC"},
      {kDelayInjected, "DI"},
      {kFaultInjected, "FI"},
      {kDownstreamProtocolError, "DPE"},
      {kUpstreamProtocolError, "UPE"},
  };
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if (!(flags & bit)) continue;
    if (!out.empty()) out += ',';
    out += name;
  }
  return out.empty() ? "-" : out;
}

}  // namespace mesh::proxy
