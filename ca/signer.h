// The signer turns a verified request (a public key and the identity the credential proved)
// into a workload certificate: the SPIFFE id as its only SAN whatever the CSR asked for,
// digitalSignature+keyEncipherment, serverAuth+clientAuth, a TTL capped by --max-ttl and by
// the issuer's own expiry. notBefore lies kNotBeforeGrace in the past (see there); notAfter is
// the time of issue plus the TTL. It is pure: no I/O, time from the Clock it is given.
#pragma once

#include <chrono>
#include <memory>

#include "ca/root_store.h"
#include "core/base/clock.h"
#include "core/base/status.h"
#include "core/tls/spiffe.h"
#include "core/tls/x509.h"

namespace mesh::ca {

inline constexpr auto kDefaultCertTtl = std::chrono::hours(24);
// How far notBefore is dated back. A certificate dated "now" is not yet valid for a peer whose
// clock reads a moment earlier: another machine a little behind, or on the same machine a
// verifier that reads time() (the kernel's coarse clock, which can still show the previous
// second for a few ms after the CA read the precise one). A renewal happens while the old
// certificate still serves, so the earlier date gives nothing away; notAfter stays the time
// of issue plus the TTL, and workloads schedule renewal from when they received a certificate
// (core/identity/cert_manager.h), not from notBefore. Public CAs date back the same way.
inline constexpr auto kNotBeforeGrace = std::chrono::minutes(5);

struct SignerOptions {
  std::chrono::seconds defaultTtl = kDefaultCertTtl;  // when the request names none
  std::chrono::seconds maxTtl = std::chrono::hours(24 * 90);
};

struct IssuedCertificate {
  core::CertificateList chain;   // leaf first, then the intermediates (no root)
  core::CertificateList bundle;  // the trust bundle at the time of issue
  core::Clock::TimePoint notAfter;
};

class Signer {
 public:
  Signer(SignerOptions options, const core::Clock& clock) : options_(options), clock_(clock) {}

  // `requestedTtl` of zero means the default. The issuer is passed per call: it changes when
  // the root rotates, and a request is signed with what was current when it arrived.
  core::Result<IssuedCertificate> issue(const IssuerMaterial& issuer,
                                        const core::PublicKey& subjectKey,
                                        const core::SpiffeId& identity,
                                        std::chrono::seconds requestedTtl) const;

  const SignerOptions& options() const { return options_; }

 private:
  SignerOptions options_;
  const core::Clock& clock_;
};

}  // namespace mesh::ca
