// Jwks: a JSON Web Key Set (RFC 7517) made ready to verify JWT signatures. Keys of the
// three algorithms the mesh accepts are kept: EC P-256 (ES256), RSA (RS256) and OKP
// Ed25519 (EdDSA); keys of any other type are skipped, as a JWKS often carries keys for
// other uses. Immutable once parsed and shared by pointer between the worker threads.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"

namespace mesh::proxy::authn {

enum class JwtAlg { es256, rs256, edDsa, unsupported };

JwtAlg parseAlg(std::string_view alg);

class Jwk {
 public:
  Jwk(JwtAlg alg, std::string kid, bool algStated);
  ~Jwk();
  Jwk(Jwk&&) noexcept;
  Jwk& operator=(Jwk&&) noexcept;

  JwtAlg alg() const { return alg_; }
  const std::string& kid() const { return kid_; }
  // The key's own "alg", when it states one; otherwise only its type decides.
  bool algStated() const { return algStated_; }
  // Whether `signature` signs `input` (the JWS signing input "<header>.<payload>").
  bool verify(std::string_view input, std::string_view signature) const;

  struct Key;  // the BoringSSL key, or the raw Ed25519 public key (jwks.cpp)

 private:
  friend class Jwks;
  JwtAlg alg_;
  std::string kid_;
  bool algStated_;
  std::unique_ptr<Key> key_;
};

class Jwks {
 public:
  // `text` is the JWKS document ({"keys": [...]}). An error when it is not JSON, has no
  // "keys" list, or no usable key is left; with `strict`, also when a key of a known type
  // is malformed (inline keys in a config), else that key is skipped and counted in
  // `skipped` (a published set, where one odd key must not take the others down).
  static core::Result<std::shared_ptr<const Jwks>> parse(std::string_view text,
                                                         bool strict = true,
                                                         size_t* skipped = nullptr);

  const std::vector<Jwk>& keys() const { return keys_; }

 private:
  std::vector<Jwk> keys_;
};

}  // namespace mesh::proxy::authn
