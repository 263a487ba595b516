#include "ca/ca_metrics.h"

#include <algorithm>

namespace mesh::ca {

CaMetrics::CaMetrics(core::metrics::Registry& registry)
    : csrs_(registry.counter("citadel_server_csr_count", "CSR messages received").series({})),
      issued_(
          registry
              .counter("citadel_server_success_cert_issuance_count", "Workload certificates issued")
              .series({})),
      expiryTimestamp_(registry
                           .gauge("citadel_server_root_cert_expiry_timestamp",
                                  "Unix time when the first trusted root certificate expires")
                           .series({})),
      expirySeconds_(registry
                         .gauge("citadel_server_root_cert_expiry_seconds",
                                "Seconds until the first trusted root certificate expires")
                         .series({})),
      roots_(registry.gauge("mesh_ca_trust_bundle_roots", "Root certificates currently trusted")
                 .series({})) {
  auto& family = registry.counter("mesh_ca_refusals_total",
                                  "Requests and connections the CA refused, by reason", {"reason"});
  for (Refusal r : allRefusals())
    refusals_[static_cast<std::size_t>(r)] = &family.series({refusalName(r)});
}

void CaMetrics::setRootExpiry(const core::CertificateList& bundle, const core::Clock& clock) {
  if (bundle.empty()) return;
  core::Clock::TimePoint first = bundle.front().notAfter();
  for (const auto& root : bundle) first = std::min(first, root.notAfter());
  expiryTimestamp_.set(static_cast<double>(
      std::chrono::duration_cast<std::chrono::seconds>(first.time_since_epoch()).count()));
  roots_.set(static_cast<double>(bundle.size()));
  refresh(clock);
}

void CaMetrics::refresh(const core::Clock& clock) {
  double now = static_cast<double>(
      std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count());
  expirySeconds_.set(expiryTimestamp_.value() - now);
}

}  // namespace mesh::ca
