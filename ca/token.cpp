#include "ca/token.h"

#include <openssl/bn.h>
#include <openssl/ec_key.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <nlohmann/json.hpp>

#include "core/identity/base64url.h"

namespace mesh::ca {
namespace {

using core::Clock;
using nlohmann::json;

constexpr size_t kScalarBytes = 32;  // P-256
constexpr auto kAllowedSkew = std::chrono::seconds(60);

std::string base64Url(std::string_view in) { return core::base64UrlEncode(in); }

bool fromBase64Url(std::string_view in, std::string& out) {
  auto decoded = core::base64UrlDecode(in);
  if (!decoded) return false;
  out = std::move(*decoded);
  return true;
}

std::string sha256(std::string_view data) {
  std::string digest(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const uint8_t*>(data.data()), data.size(),
         reinterpret_cast<uint8_t*>(digest.data()));
  return digest;
}

std::string randomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  RAND_bytes(reinterpret_cast<uint8_t*>(raw.data()), raw.size());
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

int64_t toSeconds(Clock::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// ES256 signatures are r || s, each a 32-byte big-endian integer (RFC 7518, 3.4), not DER.
core::Result<std::string> signEs256(const core::PrivateKey& key, std::string_view input) {
  const EC_KEY* ec = EVP_PKEY_get0_EC_KEY(key.get());
  if (ec == nullptr) return core::error(core::Code::internal, "token key is not an EC key");
  std::string digest = sha256(input);
  bssl::UniquePtr<ECDSA_SIG> sig(
      ECDSA_do_sign(reinterpret_cast<const uint8_t*>(digest.data()), digest.size(), ec));
  std::string raw(2 * kScalarBytes, '\0');
  auto* out = reinterpret_cast<uint8_t*>(raw.data());
  if (!sig || !BN_bn2bin_padded(out, kScalarBytes, ECDSA_SIG_get0_r(sig.get())) ||
      !BN_bn2bin_padded(out + kScalarBytes, kScalarBytes, ECDSA_SIG_get0_s(sig.get()))) {
    ERR_clear_error();
    return core::error(core::Code::internal, "signing the token failed");
  }
  return raw;
}

bool verifyEs256(const core::PublicKey& key, std::string_view input, std::string_view raw) {
  const EC_KEY* ec = EVP_PKEY_get0_EC_KEY(key.get());
  if (ec == nullptr || raw.size() != 2 * kScalarBytes) return false;
  bssl::UniquePtr<ECDSA_SIG> sig(ECDSA_SIG_new());
  const auto* in = reinterpret_cast<const uint8_t*>(raw.data());
  BIGNUM* r = BN_bin2bn(in, kScalarBytes, nullptr);
  BIGNUM* s = BN_bin2bn(in + kScalarBytes, kScalarBytes, nullptr);
  if (!sig || !r || !s || !ECDSA_SIG_set0(sig.get(), r, s)) {
    BN_free(r);
    BN_free(s);
    ERR_clear_error();
    return false;
  }
  std::string digest = sha256(input);
  bool ok = ECDSA_do_verify(reinterpret_cast<const uint8_t*>(digest.data()), digest.size(),
                            sig.get(), ec) == 1;
  ERR_clear_error();
  return ok;
}

// Reads a seconds-since-epoch claim; false when absent or not an integer.
bool timeClaim(const json& payload, const char* name, Clock::TimePoint& out) {
  auto it = payload.find(name);
  if (it == payload.end() || !it->is_number_integer()) return false;
  out = Clock::TimePoint{} + std::chrono::seconds(it->get<int64_t>());
  return true;
}

bool stringClaim(const json& payload, const char* name, std::string& out) {
  auto it = payload.find(name);
  if (it == payload.end() || !it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

}  // namespace

const char* tokenErrorName(TokenError error) {
  switch (error) {
    case TokenError::malformed:
      return "malformed";
    case TokenError::bad_signature:
      return "bad_signature";
    case TokenError::expired:
      return "expired";
    case TokenError::wrong_audience:
      return "wrong_audience";
    case TokenError::not_yet_valid:
      return "not_yet_valid";
  }
  return "unknown";
}

std::string tokenAudience(std::string_view trustDomain) {
  return "mesh-ca/" + std::string(trustDomain);
}

TokenSigner::TokenSigner(core::PrivateKey key) : key_(std::move(key)) {
  keyId_ = base64Url(sha256(key_.publicKey().toDer()).substr(0, 12));
}

core::Result<std::string> TokenSigner::create(const core::SpiffeId& identity,
                                              std::chrono::seconds ttl, const Clock& clock) const {
  if (ttl.count() <= 0) return core::error(core::Code::invalid, "token ttl must be positive");
  Clock::TimePoint now = clock.now();
  json header = {{"alg", "ES256"}, {"typ", "JWT"}, {"kid", keyId_}};
  json payload = {{"sub", identity.toString()},
                  {"aud", tokenAudience(identity.trustDomain())},
                  {"iat", toSeconds(now)},
                  {"exp", toSeconds(now + ttl)},
                  {"jti", randomHex(16)}};
  std::string input = base64Url(header.dump()) + "." + base64Url(payload.dump());
  auto sig = signEs256(key_, input);
  if (!sig) return sig.status();
  return input + "." + base64Url(*sig);
}

TokenVerdict TokenSigner::verify(std::string_view token, std::string_view expectedAudience,
                                 const Clock& clock) const {
  auto refuse = [](TokenError kind, std::string reason) {
    TokenVerdict verdict;
    verdict.error = kind;
    verdict.reason = std::move(reason);
    return verdict;
  };
  if (token.empty() || token.size() > kMaxTokenBytes)
    return refuse(TokenError::malformed, "token is empty or too long");
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return refuse(TokenError::malformed, "token is not header.payload.signature");
  std::string headerBytes, payloadBytes, sig;
  if (!fromBase64Url(token.substr(0, dot1), headerBytes) ||
      !fromBase64Url(token.substr(dot1 + 1, dot2 - dot1 - 1), payloadBytes) ||
      !fromBase64Url(token.substr(dot2 + 1), sig))
    return refuse(TokenError::malformed, "token is not base64url");
  json header = json::parse(headerBytes, nullptr, false);
  json payload = json::parse(payloadBytes, nullptr, false);
  if (!header.is_object() || !payload.is_object())
    return refuse(TokenError::malformed, "token header or payload is not a JSON object");
  // Only ES256 is ever accepted: no "none", no algorithm chosen by the token.
  if (header.value("alg", json()) != "ES256")
    return refuse(TokenError::malformed, "token algorithm must be ES256");
  if (header.value("kid", json()) != keyId_ ||
      !verifyEs256(key_.publicKey(), token.substr(0, dot2), sig))
    return refuse(TokenError::bad_signature, "token signature does not verify");

  std::string sub, aud;
  Clock::TimePoint issuedAt, expiresAt;
  if (!stringClaim(payload, "sub", sub) || !stringClaim(payload, "aud", aud) ||
      !timeClaim(payload, "iat", issuedAt) || !timeClaim(payload, "exp", expiresAt))
    return refuse(TokenError::malformed, "token lacks sub, aud, iat or exp");
  auto id = core::SpiffeId::parse(sub);
  if (!id) return refuse(TokenError::malformed, "token subject: " + id.status().message());
  if (aud != expectedAudience)
    return refuse(TokenError::wrong_audience,
                  "token audience '" + aud.substr(0, 128) + "' is not this CA");
  Clock::TimePoint now = clock.now();
  if (expiresAt <= now) return refuse(TokenError::expired, "token expired");
  if (issuedAt > now + kAllowedSkew)
    return refuse(TokenError::not_yet_valid, "token issued in the future");
  std::string jti;
  stringClaim(payload, "jti", jti);
  TokenVerdict verdict;
  verdict.claims = TokenClaims{*id, aud, issuedAt, expiresAt, jti};
  return verdict;
}

}  // namespace mesh::ca
