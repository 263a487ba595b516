#include "proxy/authn/jwks.h"

#include <openssl/bn.h>
#include <openssl/curve25519.h>
#include <openssl/ec.h>
#include <openssl/ec_key.h>
#include <openssl/ecdsa.h>
#include <openssl/nid.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include <nlohmann/json.hpp>

#include "core/identity/base64url.h"

namespace mesh::proxy::authn {

using nlohmann::json;

JwtAlg parseAlg(std::string_view alg) {
  if (alg == "ES256") return JwtAlg::es256;
  if (alg == "RS256") return JwtAlg::rs256;
  if (alg == "EdDSA") return JwtAlg::edDsa;
  return JwtAlg::unsupported;
}

struct Jwk::Key {
  bssl::UniquePtr<EC_KEY> ec;
  bssl::UniquePtr<RSA> rsa;
  std::array<uint8_t, ED25519_PUBLIC_KEY_LEN> ed25519{};
};

Jwk::Jwk(JwtAlg alg, std::string kid, bool algStated)
    : alg_(alg), kid_(std::move(kid)), algStated_(algStated), key_(std::make_unique<Key>()) {}
Jwk::~Jwk() = default;
Jwk::Jwk(Jwk&&) noexcept = default;
Jwk& Jwk::operator=(Jwk&&) noexcept = default;

namespace {

const uint8_t* bytes(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

std::array<uint8_t, SHA256_DIGEST_LENGTH> sha256(std::string_view input) {
  std::array<uint8_t, SHA256_DIGEST_LENGTH> digest;
  SHA256(bytes(input), input.size(), digest.data());
  return digest;
}

// Key members are unpadded base64url; some publishers pad them anyway, which changes nothing.
std::optional<std::string> member(const json& key, const char* name) {
  auto it = key.find(name);
  if (it == key.end() || !it->is_string()) return std::nullopt;
  std::string_view text = it->get_ref<const std::string&>();
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  auto decoded = core::base64UrlDecode(text);
  if (!decoded || decoded->empty()) return std::nullopt;
  return decoded;
}

bssl::UniquePtr<BIGNUM> bignum(std::string_view big) {
  return bssl::UniquePtr<BIGNUM>(BN_bin2bn(bytes(big), big.size(), nullptr));
}

core::Status bad(size_t index, const std::string& why) {
  return core::error(core::Code::invalid, "jwks: keys[" + std::to_string(index) + "]: " + why);
}

core::Status readEc(const json& key, size_t index, Jwk::Key& out) {
  if (key.value("crv", "") != "P-256") return bad(index, "EC key: crv must be P-256");
  auto x = member(key, "x"), y = member(key, "y");
  if (!x || !y || x->size() != 32 || y->size() != 32)
    return bad(index, "EC key: x and y must be 32-byte base64url values");
  bssl::UniquePtr<EC_KEY> ec(EC_KEY_new_by_curve_name(NID_X9_62_prime256v1));
  auto bx = bignum(*x), by = bignum(*y);
  if (!ec || !bx || !by || !EC_KEY_set_public_key_affine_coordinates(ec.get(), bx.get(), by.get()))
    return bad(index, "EC key: the point is not on P-256");
  out.ec = std::move(ec);
  return {};
}

core::Status readRsa(const json& key, size_t index, Jwk::Key& out) {
  auto n = member(key, "n"), e = member(key, "e");
  if (!n || !e) return bad(index, "RSA key: n and e must be base64url values");
  auto bn = bignum(*n), be = bignum(*e);
  if (!bn || !be) return bad(index, "RSA key: bad n or e");
  // Under 2048 bits is not safe; over 8192 only costs time on every request.
  unsigned bits = BN_num_bits(bn.get());
  if (bits < 2048 || bits > 8192) return bad(index, "RSA key: modulus of " + std::to_string(bits) +
                                                        " bits (2048 to 8192 accepted)");
  bssl::UniquePtr<RSA> rsa(RSA_new());
  if (!rsa || !RSA_set0_key(rsa.get(), bn.get(), be.get(), nullptr))
    return bad(index, "RSA key: rejected");
  bn.release();  // owned by rsa now
  be.release();
  out.rsa = std::move(rsa);
  return {};
}

core::Status readOkp(const json& key, size_t index, Jwk::Key& out) {
  if (key.value("crv", "") != "Ed25519") return bad(index, "OKP key: crv must be Ed25519");
  auto x = member(key, "x");
  if (!x || x->size() != ED25519_PUBLIC_KEY_LEN)
    return bad(index, "OKP key: x must be a 32-byte base64url value");
  std::copy(x->begin(), x->end(), out.ed25519.begin());
  return {};
}

}  // namespace

bool Jwk::verify(std::string_view input, std::string_view signature) const {
  switch (alg_) {
    case JwtAlg::es256: {
      // JWS carries r||s, 32 bytes each, not DER.
      if (signature.size() != 64 || !key_->ec) return false;
      bssl::UniquePtr<ECDSA_SIG> sig(ECDSA_SIG_new());
      auto r = bignum(signature.substr(0, 32)), s = bignum(signature.substr(32));
      if (!sig || !r || !s || !ECDSA_SIG_set0(sig.get(), r.get(), s.get())) return false;
      r.release();
      s.release();
      auto digest = sha256(input);
      return ECDSA_do_verify(digest.data(), digest.size(), sig.get(), key_->ec.get()) == 1;
    }
    case JwtAlg::rs256: {
      if (!key_->rsa) return false;
      auto digest = sha256(input);
      return RSA_verify(NID_sha256, digest.data(), digest.size(), bytes(signature),
                        signature.size(), key_->rsa.get()) == 1;
    }
    case JwtAlg::edDsa:
      if (signature.size() != ED25519_SIGNATURE_LEN) return false;
      return ED25519_verify(bytes(input), input.size(), bytes(signature),
                            key_->ed25519.data()) == 1;
    case JwtAlg::unsupported: return false;
  }
  return false;
}

core::Result<std::shared_ptr<const Jwks>> Jwks::parse(std::string_view text, bool strict,
                                                       size_t* skipped) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return core::error(core::Code::invalid, "jwks: not JSON");
  if (!doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array())
    return core::error(core::Code::invalid, "jwks: no \"keys\" list");
  auto set = std::make_shared<Jwks>();
  const json& keys = doc["keys"];
  for (size_t i = 0; i < keys.size(); ++i) {
    const json& key = keys[i];
    if (!key.is_object()) return bad(i, "not an object");
    std::string kty = key.value("kty", "");
    JwtAlg alg = kty == "EC" ? JwtAlg::es256 : kty == "RSA" ? JwtAlg::rs256
                 : kty == "OKP" ? JwtAlg::edDsa : JwtAlg::unsupported;
    if (alg == JwtAlg::unsupported) continue;  // another key type: not for us
    std::string stated = key.contains("alg") && key["alg"].is_string() ? key["alg"].get<std::string>() : "";
    // A key meant for another algorithm of its type (RS384, PS256, ...) is not ours either.
    if (!stated.empty() && parseAlg(stated) != alg) continue;
    std::string kid = key.contains("kid") && key["kid"].is_string() ? key["kid"].get<std::string>() : "";
    Jwk jwk(alg, std::move(kid), !stated.empty());
    core::Status read = alg == JwtAlg::es256 ? readEc(key, i, *jwk.key_)
                        : alg == JwtAlg::rs256 ? readRsa(key, i, *jwk.key_)
                                               : readOkp(key, i, *jwk.key_);
    if (!read.ok()) {
      if (strict) return read;
      if (skipped) ++*skipped;
      continue;
    }
    set->keys_.push_back(std::move(jwk));
  }
  if (set->keys_.empty())
    return core::error(core::Code::invalid, "jwks: no ES256, RS256 or EdDSA key");
  return std::shared_ptr<const Jwks>(std::move(set));
}

}  // namespace mesh::proxy::authn
