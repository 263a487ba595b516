// Pilot's metrics, under Istio's names where Istio has one so its dashboards keep working:
// pilot_xds (connected proxies), pilot_xds_pushes{type}, pilot_total_xds_rejects (NACKs),
// pilot_proxy_convergence_time (seconds from a change to the proxy's ACK), pilot_services,
// plus mesh's own: pilot_config_errors (invalid resources in the latest load),
// pilot_push_rounds_total, pilot_xds_refusals_total{reason} (connections refused), and
// pilot_heap_in_use_bytes / pilot_heap_free_bytes (the allocator's figures after each round).
#pragma once

#include "core/metrics/registry.h"

namespace mesh::pilot {

struct PushMetrics {
  explicit PushMetrics(core::metrics::Registry& registry);

  core::metrics::Gauge& connected;
  core::metrics::Family<core::metrics::Counter>& pushes;  // type: snapshot | delta
  core::metrics::Counter& rejects;
  core::metrics::Histogram& convergence;
  core::metrics::Gauge& services;
  core::metrics::Gauge& configErrors;
  core::metrics::Counter& rounds;
  core::metrics::Family<core::metrics::Counter>& refusals;  // reason
  core::metrics::Gauge& heapInUse;
  core::metrics::Gauge& heapFree;
};

}  // namespace mesh::pilot
