// Jwt: a JSON Web Token in JWS compact form, "<header>.<payload>.<signature>", each part
// base64url without padding, split and decoded but not yet trusted: JwtVerifier
// (jwt_rule.h) checks the signature, issuer, audiences and times.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "proxy/authn/jwks.h"

namespace mesh::proxy::authn {

struct Jwt {
  std::string algName;  // the header's "alg"
  JwtAlg alg = JwtAlg::unsupported;
  std::string kid;      // the header's "kid"; empty when absent
  nlohmann::json payload;
  std::string issuer;   // "iss"
  std::string subject;  // "sub"
  std::vector<std::string> audiences;  // "aud", a string or a list
  std::optional<int64_t> expires;      // "exp", seconds since the epoch
  std::optional<int64_t> notBefore;    // "nbf"
  std::string_view signingInput;       // "<header>.<payload>", into the token text
  std::string_view payloadText;        // the payload part as sent (base64url)
  std::string signature;               // decoded

  // nullopt when the text is not a well-formed JWS: not three parts, a part that is not
  // base64url, a header or payload that is not a JSON object, claims of the wrong type.
  // The token text must outlive the result (signingInput, payloadText point into it).
  static std::optional<Jwt> parse(std::string_view token);
};

}  // namespace mesh::proxy::authn
