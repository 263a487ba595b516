// Test keys made with BoringSSL for each JWS algorithm the proxy accepts, their public JWKs
// and tokens signed with them, so that tests need no key files.
#pragma once

#include <openssl/bn.h>
#include <openssl/curve25519.h>
#include <openssl/ec.h>
#include <openssl/ec_key.h>
#include <openssl/ecdsa.h>
#include <openssl/nid.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include <array>
#include <string>

#include <nlohmann/json.hpp>

#include "core/identity/base64url.h"

namespace mesh::test {

inline std::string b64(std::string_view s) { return core::base64UrlEncode(s); }

inline std::string bnBytes(const BIGNUM* bn, size_t width = 0) {
  std::string out(width ? width : BN_num_bytes(bn), '\0');
  BN_bn2bin_padded(reinterpret_cast<uint8_t*>(out.data()), out.size(), bn);
  return out;
}

class Signer {
 public:
  enum Kind { es256, rs256, edDsa };

  Signer(Kind kind, std::string kid) : kind_(kind), kid_(std::move(kid)) {
    if (kind == es256) {
      ec_.reset(EC_KEY_new_by_curve_name(NID_X9_62_prime256v1));
      EC_KEY_generate_key(ec_.get());
    } else if (kind == rs256) {
      rsa_.reset(RSA_new());
      bssl::UniquePtr<BIGNUM> e(BN_new());
      BN_set_word(e.get(), RSA_F4);
      RSA_generate_key_ex(rsa_.get(), 2048, e.get(), nullptr);
    } else {
      ED25519_keypair(edPublic_.data(), edPrivate_.data());
    }
  }

  const std::string& kid() const { return kid_; }
  const char* alg() const { return kind_ == es256 ? "ES256" : kind_ == rs256 ? "RS256" : "EdDSA"; }

  nlohmann::json jwk() const {
    nlohmann::json k = {{"kid", kid_}, {"alg", alg()}, {"use", "sig"}};
    if (kind_ == es256) {
      bssl::UniquePtr<BIGNUM> x(BN_new()), y(BN_new());
      EC_POINT_get_affine_coordinates_GFp(EC_KEY_get0_group(ec_.get()),
                                          EC_KEY_get0_public_key(ec_.get()), x.get(), y.get(),
                                          nullptr);
      k.update({{"kty", "EC"}, {"crv", "P-256"}, {"x", b64(bnBytes(x.get(), 32))},
                {"y", b64(bnBytes(y.get(), 32))}});
    } else if (kind_ == rs256) {
      const BIGNUM *n, *e;
      RSA_get0_key(rsa_.get(), &n, &e, nullptr);
      k.update({{"kty", "RSA"}, {"n", b64(bnBytes(n))}, {"e", b64(bnBytes(e))}});
    } else {
      k.update({{"kty", "OKP"}, {"crv", "Ed25519"},
                {"x", b64(std::string_view(reinterpret_cast<const char*>(edPublic_.data()), 32))}});
    }
    return k;
  }

  std::string sign(std::string_view input) const {
    std::array<uint8_t, SHA256_DIGEST_LENGTH> digest;
    SHA256(reinterpret_cast<const uint8_t*>(input.data()), input.size(), digest.data());
    if (kind_ == es256) {
      bssl::UniquePtr<ECDSA_SIG> sig(ECDSA_do_sign(digest.data(), digest.size(), ec_.get()));
      const BIGNUM *r, *s;
      ECDSA_SIG_get0(sig.get(), &r, &s);
      return bnBytes(r, 32) + bnBytes(s, 32);
    }
    if (kind_ == rs256) {
      std::string out(RSA_size(rsa_.get()), '\0');
      unsigned len = 0;
      RSA_sign(NID_sha256, digest.data(), digest.size(), reinterpret_cast<uint8_t*>(out.data()),
               &len, rsa_.get());
      out.resize(len);
      return out;
    }
    std::string out(ED25519_SIGNATURE_LEN, '\0');
    ED25519_sign(reinterpret_cast<uint8_t*>(out.data()),
                 reinterpret_cast<const uint8_t*>(input.data()), input.size(), edPrivate_.data());
    return out;
  }

  // A compact JWS of `payload`; `header` entries override the default {alg, kid}.
  std::string token(const nlohmann::json& payload, const nlohmann::json& header = {}) const {
    nlohmann::json h = {{"alg", alg()}, {"kid", kid_}, {"typ", "JWT"}};
    if (header.is_object()) h.update(header);
    std::string input = b64(h.dump()) + "." + b64(payload.dump());
    return input + "." + b64(sign(input));
  }

 private:
  Kind kind_;
  std::string kid_;
  bssl::UniquePtr<EC_KEY> ec_;
  bssl::UniquePtr<RSA> rsa_;
  std::array<uint8_t, 32> edPublic_{};
  std::array<uint8_t, 64> edPrivate_{};
};

inline std::string jwksOf(std::initializer_list<const Signer*> signers) {
  nlohmann::json keys = nlohmann::json::array();
  for (const Signer* s : signers) keys.push_back(s->jwk());
  return nlohmann::json{{"keys", keys}}.dump();
}

}  // namespace mesh::test
