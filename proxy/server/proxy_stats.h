// The proxy's own counters, registered once in the process registry and shared by every
// worker (relaxed atomics, see core/metrics/metrics.h). Rendered by the admin /stats.
#pragma once

#include <array>
#include <string_view>

#include "core/metrics/registry.h"
#include "proxy/authn/jwt_rule.h"
#include "proxy/telemetry/istio_metrics.h"

namespace mesh::proxy {

struct ProxyStats {
  explicit ProxyStats(core::metrics::Registry& registry);

  // Per-flag and per-error-kind series are looked up once, here, not per request.
  core::metrics::Counter& flagCounter(uint32_t flagBit) {
    return *flagByBit[static_cast<size_t>(__builtin_ctz(flagBit))];
  }
  core::metrics::Counter& protocolError(std::string_view kind);
  // Requests that carried a JWT, by result: "ok" or why it was refused.
  core::metrics::Counter& jwtCounter(authn::JwtFailure result) {
    return *jwtByResult[static_cast<size_t>(result)];
  }

  core::metrics::Registry& registry;
  core::metrics::Counter& downstreamRequests;
  core::metrics::Counter& downstreamConnections;
  core::metrics::Gauge& downstreamConnectionsActive;
  core::metrics::Counter& upstreamRequests;
  core::metrics::Counter& retries;
  core::metrics::Counter& configReloadOk;
  core::metrics::Counter& configReloadError;
  core::metrics::Counter& tcpConnections;
  core::metrics::Counter& rbacDeniedHttp;  // requests and connections AuthorizationPolicy refused
  core::metrics::Counter& rbacDeniedTcp;
  core::metrics::Family<core::metrics::Counter>& flags;
  std::array<core::metrics::Counter*, 32> flagByBit{};  // by the flag's bit, as ResponseFlag
  core::metrics::Family<core::metrics::Counter>& protocolErrors;
  core::metrics::Family<core::metrics::Counter>& jwt;
  // One series per JWT result, resolved here so a request with a token looks nothing up.
  std::array<core::metrics::Counter*, static_cast<size_t>(authn::JwtFailure::badSignature) + 1>
      jwtByResult{};
  telemetry::IstioMetrics istio;  // Istio's standard metrics (proxy/telemetry)
};

}  // namespace mesh::proxy
