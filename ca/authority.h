// The CA's decision for one `csr` message (docs/protocol.md): authenticate the credential (a
// bootstrap token, or the client certificate the peer presented in the TLS handshake),
// decide the identity from the credential alone, check that the CSR asks for nothing else,
// sign, and answer with a `certificate` or an `error` frame. Every refusal is counted by
// reason and logged with the peer it came from.
//
// Independent of the network: the server hands it the message and the peer's chain, tests do
// the same directly. The issuer material is replaced as a whole (shared_ptr to const) when the
// root rotates; a request in progress keeps the material it started with.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "ca/ca_metrics.h"
#include "ca/refusal.h"
#include "ca/root_store.h"
#include "ca/signer.h"
#include "ca/token.h"
#include "core/base/clock.h"
#include "core/tls/x509.h"

namespace mesh::ca {

class Authority {
 public:
  // Borrows everything; all must outlive the Authority.
  Authority(std::string trustDomain, const Signer& signer, const TokenSigner& tokens,
            CaMetrics& metrics, const core::Clock& clock);

  void setIssuer(std::shared_ptr<const IssuerMaterial> issuer);
  std::shared_ptr<const IssuerMaterial> issuer() const { return issuer_; }
  const std::string& trustDomain() const { return trustDomain_; }

  // Answers one `csr` message. `peerChain` is the certificate chain the client presented
  // (empty when none); `peer` names the connection in log lines.
  nlohmann::json handleCsr(const nlohmann::json& request, const core::CertificateList& peerChain,
                           const std::string& peer);

  // Counts and logs a refusal that happened outside handleCsr (framing, TLS) and returns the
  // error frame to send, if the connection can still carry one.
  nlohmann::json refuse(Refusal why, const std::string& detail, const std::string& peer);

 private:
  core::Result<core::SpiffeId> authenticate(const nlohmann::json& request,
                                            const core::CertificateList& peerChain,
                                            const IssuerMaterial& issuer, Refusal& why);

  std::string trustDomain_;
  std::string audience_;
  const Signer& signer_;
  const TokenSigner& tokens_;
  CaMetrics& metrics_;
  const core::Clock& clock_;
  std::shared_ptr<const IssuerMaterial> issuer_;
};

}  // namespace mesh::ca
