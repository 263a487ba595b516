// libFuzzer driver for RequestAuthentication's token and key parsing (proxy/authn).
//
// Input: a JWKS document, a NUL byte, then the bytes a client sends after "Bearer ". The
// JWKS is parsed both strictly (as inline config) and leniently (as fetched); the token is
// parsed alone and then checked by a rule holding whatever keys parsed, through the same
// path a request takes. Besides the sanitizers it checks: a token that passed has a
// principal "<iss>/<sub>" and claims, a refusal has none, and parsing is deterministic.
// Build and run: see README.md.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "proxy/authn/jwt_authenticator.h"

using namespace mesh::proxy::authn;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  size_t nul = input.find('\0');
  std::string jwks = nul == std::string::npos ? input : input.substr(0, nul);
  std::string token = nul == std::string::npos ? "" : input.substr(nul + 1);

  size_t skipped = 0;
  auto strict = Jwks::parse(jwks);
  auto lenient = Jwks::parse(jwks, false, &skipped);
  if (strict.ok() && !lenient.ok()) std::abort();  // lenient accepts at least what strict does

  auto jwt = Jwt::parse(token);
  auto again = Jwt::parse(token);
  if (jwt.has_value() != again.has_value()) std::abort();

  if (!lenient.ok()) return 0;
  nlohmann::json rule = {{"issuer", jwt ? jwt->issuer : "x"}, {"jwks", jwks}};
  auto authenticator = JwtAuthenticator::compile(
      nlohmann::json::array({{{"name", "f"}, {"namespace", "f"}, {"spec", {{"jwtRules", {rule}}}}}}),
      nullptr);
  if (!authenticator.ok()) return 0;  // a strict failure: keys the config form refuses
  mesh::core::http::HeaderMap headers;
  headers.add("authorization", "Bearer " + token);
  AuthnResult result = authenticator->authenticate(headers, "", 1790000000);
  if (result.authenticated() != (result.claims != nullptr)) std::abort();
  if (!result.authenticated() && !result.principal.empty()) std::abort();
  return 0;
}
