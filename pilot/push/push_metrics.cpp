#include "pilot/push/push_metrics.h"

namespace mesh::pilot {

PushMetrics::PushMetrics(core::metrics::Registry& r)
    : connected(r.gauge("pilot_xds", "Number of proxies connected to this pilot").series(std::vector<std::string>{})),
      pushes(r.counter("pilot_xds_pushes", "Configuration frames pushed to proxies, by type",
                       {"type"})),
      rejects(r.counter("pilot_total_xds_rejects", "Snapshots proxies refused (NACK)").series(std::vector<std::string>{})),
      convergence(r.histogram("pilot_proxy_convergence_time",
                              "Seconds from a configuration change to the proxy's ACK", {},
                              {0.01, 0.05, 0.1, 0.25, 0.5, 1, 3, 5, 10, 20, 30})
                      .series(std::vector<std::string>{})),
      services(r.gauge("pilot_services", "Services in the registry").series(std::vector<std::string>{})),
      configErrors(r.gauge("pilot_config_errors",
                           "Invalid resources in the latest configuration load").series(std::vector<std::string>{})),
      rounds(r.counter("pilot_push_rounds_total", "Push rounds (one per coalesced change)")
                 .series(std::vector<std::string>{})),
      refusals(r.counter("pilot_xds_refusals_total", "Proxy connections refused, by reason",
                         {"reason"})),
      heapInUse(r.gauge("pilot_heap_in_use_bytes",
                        "Bytes of allocated memory in use, after the last push round")
                    .series(std::vector<std::string>{})),
      heapFree(r.gauge("pilot_heap_free_bytes",
                       "Bytes the allocator holds free (not returned to the system), after the "
                       "last push round")
                   .series(std::vector<std::string>{})) {}

}  // namespace mesh::pilot
