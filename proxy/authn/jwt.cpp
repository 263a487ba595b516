#include "proxy/authn/jwt.h"

#include "core/identity/base64url.h"

namespace mesh::proxy::authn {

using nlohmann::json;

namespace {

std::optional<json> decodeObject(std::string_view part) {
  auto text = core::base64UrlDecode(part);
  if (!text) return std::nullopt;
  json value = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded() || !value.is_object()) return std::nullopt;
  return value;
}

// A time claim is a JSON number of seconds (RFC 7519 NumericDate); fractions are dropped.
bool readTime(const json& payload, const char* name, std::optional<int64_t>& out) {
  auto it = payload.find(name);
  if (it == payload.end()) return true;
  if (it->is_number_integer()) out = it->get<int64_t>();
  else if (it->is_number_float() && it->get<double>() > -9.2e18 && it->get<double>() < 9.2e18)
    out = static_cast<int64_t>(it->get<double>());
  else return false;
  return true;
}

bool readString(const json& object, const char* name, std::string& out) {
  auto it = object.find(name);
  if (it == object.end()) return true;
  if (!it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

}  // namespace

std::optional<Jwt> Jwt::parse(std::string_view token) {
  size_t first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
    return std::nullopt;
  Jwt jwt;
  auto header = decodeObject(token.substr(0, first));
  if (!header) return std::nullopt;
  jwt.payloadText = token.substr(first + 1, second - first - 1);
  auto payload = decodeObject(jwt.payloadText);
  auto signature = core::base64UrlDecode(token.substr(second + 1));
  if (!payload || !signature || signature->empty()) return std::nullopt;
  if (!readString(*header, "alg", jwt.algName) || jwt.algName.empty()) return std::nullopt;
  if (!readString(*header, "kid", jwt.kid)) return std::nullopt;
  jwt.alg = parseAlg(jwt.algName);
  if (!readString(*payload, "iss", jwt.issuer) || !readString(*payload, "sub", jwt.subject))
    return std::nullopt;
  if (auto aud = payload->find("aud"); aud != payload->end()) {
    if (aud->is_string()) {
      jwt.audiences.push_back(aud->get<std::string>());
    } else if (aud->is_array()) {
      for (const auto& a : *aud) {
        if (!a.is_string()) return std::nullopt;
        jwt.audiences.push_back(a.get<std::string>());
      }
    } else {
      return std::nullopt;
    }
  }
  if (!readTime(*payload, "exp", jwt.expires) || !readTime(*payload, "nbf", jwt.notBefore))
    return std::nullopt;
  jwt.payload = std::move(*payload);
  jwt.signingInput = token.substr(0, second);
  jwt.signature = std::move(*signature);
  return jwt;
}

}  // namespace mesh::proxy::authn
