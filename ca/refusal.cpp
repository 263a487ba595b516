#include "ca/refusal.h"

namespace mesh::ca {

const char* refusalName(Refusal refusal) {
  switch (refusal) {
    case Refusal::tls_handshake:
      return "tls_handshake";
    case Refusal::malformed_frame:
      return "malformed_frame";
    case Refusal::frame_too_large:
      return "frame_too_large";
    case Refusal::unknown_message:
      return "unknown_message";
    case Refusal::bad_request:
      return "bad_request";
    case Refusal::bad_csr:
      return "bad_csr";
    case Refusal::no_credential:
      return "no_credential";
    case Refusal::token_malformed:
      return "token_malformed";
    case Refusal::token_forged:
      return "token_forged";
    case Refusal::token_expired:
      return "token_expired";
    case Refusal::token_wrong_audience:
      return "token_wrong_audience";
    case Refusal::token_not_yet_valid:
      return "token_not_yet_valid";
    case Refusal::identity_mismatch:
      return "identity_mismatch";
    case Refusal::untrusted_client_cert:
      return "untrusted_client_cert";
    case Refusal::foreign_trust_domain:
      return "foreign_trust_domain";
    case Refusal::internal:
      return "internal";
  }
  return "unknown";
}

core::Code refusalCode(Refusal refusal) {
  switch (refusal) {
    case Refusal::malformed_frame:
    case Refusal::unknown_message:
    case Refusal::bad_request:
    case Refusal::bad_csr:
      return core::Code::invalid;
    case Refusal::frame_too_large:
      return core::Code::too_large;
    case Refusal::internal:
      return core::Code::internal;
    default:
      return core::Code::denied;
  }
}

const std::array<Refusal, kRefusalCount>& allRefusals() {
  static const auto all = [] {
    std::array<Refusal, kRefusalCount> out{};
    for (std::size_t i = 0; i < kRefusalCount; ++i) out[i] = static_cast<Refusal>(i);
    return out;
  }();
  return all;
}

}  // namespace mesh::ca
