// Every reason the CA refuses a request or a connection. Each has a stable name: it is the
// `reason` label of mesh_ca_refusals_total and appears in the log line for the refusal.
#pragma once

#include <array>
#include <cstddef>

#include "core/base/status.h"

namespace mesh::ca {

enum class Refusal {
  tls_handshake,    // the peer could not complete a TLS handshake (garbage, wrong CA)
  malformed_frame,  // bad length prefix, malformed JSON, no "type"
  frame_too_large,  // a frame over the size limit
  unknown_message,  // a "type" the CA does not serve
  bad_request,      // a csr message with missing or mistyped fields
  bad_csr,          // the CSR does not parse or its self-signature does not verify
  no_credential,    // neither a token nor a client certificate
  token_malformed,
  token_forged,  // signature by a key that is not the CA's
  token_expired,
  token_wrong_audience,  // a token for another CA (another trust domain)
  token_not_yet_valid,
  identity_mismatch,      // the CSR asks for an identity the credential does not prove
  untrusted_client_cert,  // the renewal certificate does not verify against the trust bundle
  foreign_trust_domain,   // a credential for an identity in another trust domain
  internal,               // signing failed on our side
};

inline constexpr std::size_t kRefusalCount = static_cast<std::size_t>(Refusal::internal) + 1;

const char* refusalName(Refusal refusal);
// The protocol error code the refusal is reported with (denied, invalid, too_large, ...).
core::Code refusalCode(Refusal refusal);
// All reasons in declaration order (for metrics: every series exists from the start).
const std::array<Refusal, kRefusalCount>& allRefusals();

}  // namespace mesh::ca
