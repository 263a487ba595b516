#include "ca/authority.h"

#include "core/base/log.h"
#include "core/proto/frame.h"
#include "core/tls/csr.h"

namespace mesh::ca {
namespace {

using nlohmann::json;

constexpr int64_t kMaxTtlSeconds = int64_t{100} * 365 * 24 * 3600;

Refusal tokenRefusal(TokenError error) {
  switch (error) {
    case TokenError::malformed:
      return Refusal::token_malformed;
    case TokenError::bad_signature:
      return Refusal::token_forged;
    case TokenError::expired:
      return Refusal::token_expired;
    case TokenError::wrong_audience:
      return Refusal::token_wrong_audience;
    case TokenError::not_yet_valid:
      return Refusal::token_not_yet_valid;
  }
  return Refusal::token_malformed;
}

int64_t epochSeconds(core::Clock::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

Authority::Authority(std::string trustDomain, const Signer& signer, const TokenSigner& tokens,
                     CaMetrics& metrics, const core::Clock& clock)
    : trustDomain_(std::move(trustDomain)),
      audience_(tokenAudience(trustDomain_)),
      signer_(signer),
      tokens_(tokens),
      metrics_(metrics),
      clock_(clock) {}

void Authority::setIssuer(std::shared_ptr<const IssuerMaterial> issuer) {
  issuer_ = std::move(issuer);
  if (issuer_) metrics_.setRootExpiry(issuer_->bundle, clock_);
}

json Authority::refuse(Refusal why, const std::string& detail, const std::string& peer) {
  metrics_.refused(why);
  LOG_WARN("ca", "refused ", peer, ": ", refusalName(why), ": ", detail);
  return core::errorMessage(core::error(refusalCode(why), detail));
}

core::Result<core::SpiffeId> Authority::authenticate(const json& request,
                                                     const core::CertificateList& peerChain,
                                                     const IssuerMaterial& issuer, Refusal& why) {
  auto token = request.find("token");
  if (token != request.end()) {
    if (!token->is_string()) {
      why = Refusal::bad_request;
      return core::error(core::Code::invalid, "\"token\" must be a string");
    }
    TokenVerdict verdict = tokens_.verify(token->get_ref<const std::string&>(), audience_, clock_);
    if (!verdict.ok()) {
      why = tokenRefusal(verdict.error);
      return core::error(core::Code::denied, verdict.reason);
    }
    return verdict.claims->identity;
  }
  if (peerChain.empty()) {
    why = Refusal::no_credential;
    return core::error(core::Code::denied, "no token and no client certificate");
  }
  // The trust domain first: a certificate of another mesh is reported as such, not merely as
  // "untrusted", which is what an operator federating two meshes needs to see.
  auto id = peerChain.front().spiffeId();
  if (!id) {
    why = Refusal::untrusted_client_cert;
    return core::error(core::Code::denied, "client certificate: " + id.status().message());
  }
  if (id->trustDomain() != trustDomain_) {
    why = Refusal::foreign_trust_domain;
    return core::error(core::Code::denied, "client certificate is for trust domain " +
                                               id->trustDomain() + ", not " + trustDomain_);
  }
  if (auto s = core::verifyCertificateChain(peerChain, issuer.bundle, clock_.now()); !s) {
    why = Refusal::untrusted_client_cert;
    return core::error(core::Code::denied, "client certificate: " + s.message());
  }
  return *id;
}

json Authority::handleCsr(const json& request, const core::CertificateList& peerChain,
                          const std::string& peer) {
  metrics_.requested();
  std::shared_ptr<const IssuerMaterial> issuer = issuer_;
  if (!issuer) return refuse(Refusal::internal, "no signing material loaded", peer);
  auto csrField = request.find("csr");
  if (csrField == request.end() || !csrField->is_string())
    return refuse(Refusal::bad_request, "\"csr\" must be a PEM string", peer);
  int64_t ttlSeconds = 0;
  if (auto ttl = request.find("ttl_seconds"); ttl != request.end()) {
    if (!ttl->is_number_integer() || ttl->get<int64_t>() < 0 ||
        ttl->get<int64_t>() > kMaxTtlSeconds)
      return refuse(Refusal::bad_request, "\"ttl_seconds\" must be a non-negative integer", peer);
    ttlSeconds = ttl->get<int64_t>();
  }
  auto csr = core::parseCsrPem(csrField->get_ref<const std::string&>());
  if (!csr) return refuse(Refusal::bad_csr, csr.status().message(), peer);

  Refusal why = Refusal::internal;
  auto identity = authenticate(request, peerChain, *issuer, why);
  if (!identity) return refuse(why, identity.status().message(), peer);
  // The certificate carries the credential's identity only; a CSR that names another one is
  // an attempt to use one workload's credential for another.
  for (const std::string& uri : csr->uriSans) {
    if (uri != identity->toString())
      return refuse(
          Refusal::identity_mismatch,
          "credential is for " + identity->toString() + ", CSR asks for " + uri.substr(0, 256),
          peer);
  }
  auto issued = signer_.issue(*issuer, csr->publicKey, *identity, std::chrono::seconds(ttlSeconds));
  if (!issued) return refuse(Refusal::internal, issued.status().message(), peer);
  metrics_.issued();
  const core::Certificate& leaf = issued->chain.front();
  LOG_INFO("ca", "issued ", identity->toString(), " serial ", leaf.serialHex(), " to ", peer,
           " via ", request.contains("token") ? "token" : "client certificate", ", expires ",
           epochSeconds(issued->notAfter));
  return json{{"type", "certificate"},
              {"chain", core::certificatesToPem(issued->chain)},
              {"trust_bundle", core::certificatesToPem(issued->bundle)},
              {"identity", identity->toString()},
              {"not_after", epochSeconds(issued->notAfter)}};
}

}  // namespace mesh::ca
