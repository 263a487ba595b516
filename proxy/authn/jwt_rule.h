// JwtRule: one of RequestAuthentication's jwtRules, compiled: the issuer it trusts, the
// audiences it accepts, where its token is looked for, what happens to the request after
// a token passed, and the keys (inline `jwks`, or a `jwksUri` kept fresh by JwksFetcher).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/status.h"
#include "proxy/authn/jwks.h"
#include "proxy/authn/jwks_fetcher.h"
#include "proxy/authn/jwt.h"

namespace mesh::proxy::authn {

// Why a token was refused; each has its counter label and the 401 body Envoy sends.
enum class JwtFailure {
  none, malformed, unknownIssuer, expired, notYetValid, audience, noJwks, unknownKid,
  badSignature,
};
std::string_view failureLabel(JwtFailure failure);
std::string_view failureBody(JwtFailure failure);

struct TokenLocation {
  bool header = true;  // a header, else a query parameter
  std::string name;    // header names are matched case-insensitively
  std::string prefix;  // headers only: what precedes the token ("Bearer ")
};

class JwtRule {
 public:
  // `rule` is one jwtRules entry; `where` prefixes error messages. With no fetcher a
  // jwksUri rule never has keys (every token for it fails).
  static core::Result<JwtRule> compile(const nlohmann::json& rule, const std::string& where,
                                       JwksFetcher* fetcher);

  const std::string& issuer() const { return issuer_; }
  const std::vector<TokenLocation>& locations() const { return locations_; }
  bool forwardOriginalToken() const { return forwardOriginalToken_; }
  const std::string& outputPayloadToHeader() const { return outputPayloadToHeader_; }
  // (header, claim) pairs of outputClaimToHeaders.
  const std::vector<std::pair<std::string, std::string>>& outputClaimToHeaders() const {
    return outputClaimToHeaders_;
  }

  // Checks a token whose issuer is this rule's: times (60 s of clock skew allowed either
  // way), audiences, then the signature. `now` is seconds since the epoch.
  JwtFailure verify(const Jwt& jwt, int64_t now) const;

 private:
  // Tokens whose signature already verified, each with the key set that verified it:
  // clients send the same token many times, and the signature check is most of the cost.
  // Only a success is remembered, and only under the very same key set (a rotation
  // replaces the set, so every entry misses). Shared by the workers.
  struct VerifiedTokens {
    static constexpr size_t kMax = 256;
    std::mutex mutex;
    std::unordered_map<std::string, std::shared_ptr<const Jwks>> byToken;
  };
  bool verifiedBefore(const Jwt& jwt, const std::shared_ptr<const Jwks>& keys) const;
  void rememberVerified(const Jwt& jwt, std::shared_ptr<const Jwks> keys) const;

  std::string issuer_;
  std::vector<std::string> audiences_;  // empty: any
  std::vector<TokenLocation> locations_;
  bool forwardOriginalToken_ = false;
  std::string outputPayloadToHeader_;
  std::vector<std::pair<std::string, std::string>> outputClaimToHeaders_;
  std::shared_ptr<const Jwks> inlineKeys_;
  std::shared_ptr<JwksSource> remoteKeys_;
  std::unique_ptr<VerifiedTokens> verified_ = std::make_unique<VerifiedTokens>();
};

}  // namespace mesh::proxy::authn
