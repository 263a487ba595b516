// The proxy's health figures that are read from live state at scrape time rather than
// counted as they happen: the config version in force, seconds until the workload
// certificate expires, and per cluster its hosts, ejected hosts, outlier ejections so far,
// open upstream connections (the pools' size) and requests in flight. Written in the
// Prometheus text format after the registry's families (mesh_proxy_*).
#pragma once

#include <optional>
#include <string>

#include "core/base/clock.h"
#include "proxy/server/runtime_config.h"

namespace mesh::proxy::telemetry {

// `certificateNotAfter`: the current workload certificate's expiry, if there is one.
void appendHealthStats(std::string& out, const RuntimeConfig& config,
                       std::optional<core::Clock::TimePoint> certificateNotAfter,
                       const core::Clock& clock);

}  // namespace mesh::proxy::telemetry
