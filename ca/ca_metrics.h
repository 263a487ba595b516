// The CA's metrics, under Istio's Citadel names where Istio has one so existing dashboards and
// alerts (root expiry!) work unchanged:
//   citadel_server_csr_count                      csr messages received
//   citadel_server_success_cert_issuance_count    certificates issued
//   citadel_server_root_cert_expiry_timestamp     when the first trusted root expires (unix s)
//   citadel_server_root_cert_expiry_seconds       seconds until then (refresh() before render)
//   mesh_ca_refusals_total{reason}                refusals by reason (refusal.h), all present
//   mesh_ca_trust_bundle_roots                    roots currently trusted (2 during rotation)
// The registry is borrowed and must outlive this object.
#pragma once

#include <array>

#include "ca/refusal.h"
#include "core/base/clock.h"
#include "core/metrics/registry.h"
#include "core/tls/x509.h"

namespace mesh::ca {

class CaMetrics {
 public:
  explicit CaMetrics(core::metrics::Registry& registry);

  void requested() { csrs_.inc(); }
  void issued() { issued_.inc(); }
  void refused(Refusal why) { refusals_[static_cast<std::size_t>(why)]->inc(); }
  void setRootExpiry(const core::CertificateList& bundle, const core::Clock& clock);
  // Recomputes the seconds-to-expiry gauge from the stored timestamp.
  void refresh(const core::Clock& clock);

  std::uint64_t issuedCount() const { return issued_.value(); }
  std::uint64_t requestCount() const { return csrs_.value(); }
  std::uint64_t refusalCount(Refusal why) const {
    return refusals_[static_cast<std::size_t>(why)]->value();
  }

 private:
  core::metrics::Counter& csrs_;
  core::metrics::Counter& issued_;
  core::metrics::Gauge& expiryTimestamp_;
  core::metrics::Gauge& expirySeconds_;
  core::metrics::Gauge& roots_;
  std::array<core::metrics::Counter*, kRefusalCount> refusals_{};
};

}  // namespace mesh::ca
