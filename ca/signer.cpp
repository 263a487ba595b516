#include "ca/signer.h"

#include <algorithm>

namespace mesh::ca {

core::Result<IssuedCertificate> Signer::issue(const IssuerMaterial& issuer,
                                              const core::PublicKey& subjectKey,
                                              const core::SpiffeId& identity,
                                              std::chrono::seconds requestedTtl) const {
  if (requestedTtl.count() < 0) return core::error(core::Code::invalid, "negative ttl");
  std::chrono::seconds ttl = requestedTtl.count() == 0 ? options_.defaultTtl : requestedTtl;
  ttl = std::min(ttl, options_.maxTtl);
  core::Clock::TimePoint now = clock_.now();
  core::CertificateTemplate tmpl;
  tmpl.spiffeId = identity;
  tmpl.organization = identity.trustDomain();
  tmpl.notBefore = now - kNotBeforeGrace;  // clock skew, see signer.h
  // A certificate that outlives its issuer would fail verification at the end anyway.
  tmpl.notAfter = std::min<core::Clock::TimePoint>(now + ttl, issuer.cert.notAfter());
  if (tmpl.notAfter <= now) return core::error(core::Code::internal, "issuer has expired");
  auto leaf = core::signCertificate(tmpl, subjectKey, issuer.cert, issuer.key);
  if (!leaf) return leaf.status();
  IssuedCertificate out{{*leaf}, issuer.bundle, tmpl.notAfter};
  for (const auto& c : issuer.chain) {
    // A root signing directly is in the bundle already; the chain carries intermediates only.
    bool isRoot = false;
    for (const auto& r : issuer.bundle) isRoot = isRoot || r == c;
    if (!isRoot) out.chain.push_back(c);
  }
  return out;
}

}  // namespace mesh::ca
