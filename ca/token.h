// Bootstrap tokens: how a workload that has no certificate yet proves which identity it may
// ask for. A token is the compact JWT form "header.payload.signature" (base64url, ES256) signed
// by a P-256 key that only the CA holds (token-key.pem in its data directory). The payload
// names one SPIFFE identity, the audience (this CA's trust domain) and an expiry, so a token
// can never yield a certificate for another identity, another mesh, or after it expires.
//
// TokenSigner owns a copy of the signing key (a shared, immutable BoringSSL object).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/clock.h"
#include "core/base/status.h"
#include "core/tls/spiffe.h"
#include "core/tls/x509.h"

namespace mesh::ca {

// Tokens longer than this are refused unread: they come from the network.
inline constexpr size_t kMaxTokenBytes = 4096;

struct TokenClaims {
  core::SpiffeId identity;
  std::string audience;
  core::Clock::TimePoint issuedAt;
  core::Clock::TimePoint expiresAt;
  std::string id;  // random, for audit logs: "token 3f2a... used by ..."
};

// Why a token was refused, for the CA's refusal counters.
enum class TokenError { malformed, bad_signature, expired, wrong_audience, not_yet_valid };
const char* tokenErrorName(TokenError error);

// The outcome of checking a token: the claims, or why it was refused.
struct TokenVerdict {
  std::optional<TokenClaims> claims;
  TokenError error = TokenError::malformed;
  std::string reason;
  bool ok() const { return claims.has_value(); }
};

// The audience every token of a CA for `trustDomain` carries.
std::string tokenAudience(std::string_view trustDomain);

class TokenSigner {
 public:
  explicit TokenSigner(core::PrivateKey key);

  // A token for `identity`, valid from now for `ttl`, audience tokenAudience(trust domain).
  core::Result<std::string> create(const core::SpiffeId& identity, std::chrono::seconds ttl,
                                   const core::Clock& clock) const;

  // Checks algorithm, key id, signature, audience and validity at clock.now() (a token issued
  // up to a minute in the future is accepted: clocks differ).
  TokenVerdict verify(std::string_view token, std::string_view expectedAudience,
                      const core::Clock& clock) const;

  // A short id of the verifying key ("kid" in the header): tokens name the key that signed them.
  const std::string& keyId() const { return keyId_; }

 private:
  core::PrivateKey key_;
  std::string keyId_;
};

}  // namespace mesh::ca
