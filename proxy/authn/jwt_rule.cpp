#include "proxy/authn/jwt_rule.h"

#include <algorithm>

namespace mesh::proxy::authn {

using nlohmann::json;

namespace {
constexpr int64_t kClockSkewSeconds = 60;

core::Status bad(const std::string& where, const std::string& why) {
  return core::error(core::Code::invalid, where + ": " + why);
}

// A list of non-empty strings, or absent.
core::Status readStrings(const json& rule, const char* name, const std::string& where,
                         std::vector<std::string>& out) {
  auto it = rule.find(name);
  if (it == rule.end() || it->is_null()) return {};
  if (!it->is_array()) return bad(where, std::string(name) + " must be a list of strings");
  for (const auto& v : *it) {
    if (!v.is_string() || v.get_ref<const std::string&>().empty())
      return bad(where, std::string(name) + " must be a list of non-empty strings");
    out.push_back(v.get<std::string>());
  }
  return {};
}

core::Status readLocations(const json& rule, const std::string& where,
                           std::vector<TokenLocation>& out) {
  if (auto it = rule.find("fromHeaders"); it != rule.end() && !it->is_null()) {
    if (!it->is_array()) return bad(where, "fromHeaders must be a list");
    for (const auto& h : *it) {
      if (!h.is_object() || !h.contains("name") || !h["name"].is_string() ||
          h["name"].get_ref<const std::string&>().empty())
        return bad(where, "fromHeaders: every entry needs a name");
      if (h.contains("prefix") && !h["prefix"].is_string())
        return bad(where, "fromHeaders: prefix must be a string");
      out.push_back({true, h["name"].get<std::string>(), h.value("prefix", "")});
    }
  }
  std::vector<std::string> params;
  if (auto s = readStrings(rule, "fromParams", where, params); !s.ok()) return s;
  for (auto& p : params) out.push_back({false, std::move(p), ""});
  if (auto it = rule.find("fromCookies"); it != rule.end() && !it->empty())
    return bad(where, "fromCookies is not supported");
  // Istio's default when the rule names no location.
  if (out.empty()) {
    out.push_back({true, "authorization", "Bearer "});
    out.push_back({false, "access_token", ""});
  }
  return {};
}

core::Status readOutputs(const json& rule, const std::string& where, std::string& payloadHeader,
                         std::vector<std::pair<std::string, std::string>>& claimHeaders) {
  if (auto it = rule.find("outputPayloadToHeader"); it != rule.end() && !it->is_null()) {
    if (!it->is_string()) return bad(where, "outputPayloadToHeader must be a string");
    payloadHeader = it->get<std::string>();
  }
  if (auto it = rule.find("outputClaimToHeaders"); it != rule.end() && !it->is_null()) {
    if (!it->is_array()) return bad(where, "outputClaimToHeaders must be a list");
    for (const auto& c : *it) {
      if (!c.is_object() || !c.contains("header") || !c.contains("claim") ||
          !c["header"].is_string() || !c["claim"].is_string() ||
          c["header"].get_ref<const std::string&>().empty() ||
          c["claim"].get_ref<const std::string&>().empty())
        return bad(where, "outputClaimToHeaders: every entry needs a header and a claim");
      claimHeaders.emplace_back(c["header"].get<std::string>(), c["claim"].get<std::string>());
    }
  }
  return {};
}

}  // namespace

std::string_view failureLabel(JwtFailure f) {
  switch (f) {
    case JwtFailure::none: return "ok";
    case JwtFailure::malformed: return "malformed";
    case JwtFailure::unknownIssuer: return "unknown_issuer";
    case JwtFailure::expired: return "expired";
    case JwtFailure::notYetValid: return "not_yet_valid";
    case JwtFailure::audience: return "audience";
    case JwtFailure::noJwks: return "no_jwks";
    case JwtFailure::unknownKid: return "unknown_kid";
    case JwtFailure::badSignature: return "bad_signature";
  }
  return "unknown";
}

// Envoy's jwt_authn answers, which clients and runbooks already know.
std::string_view failureBody(JwtFailure f) {
  switch (f) {
    case JwtFailure::none: return "";
    case JwtFailure::malformed:
      return "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections";
    case JwtFailure::unknownIssuer: return "Jwt issuer is not configured";
    case JwtFailure::expired: return "Jwt is expired";
    case JwtFailure::notYetValid: return "Jwt not yet valid";
    case JwtFailure::audience: return "Audiences in Jwt are not allowed";
    case JwtFailure::noJwks: return "Jwks remote fetch is failed";
    case JwtFailure::unknownKid: return "Jwks doesn't have key to match kid or alg from Jwt";
    case JwtFailure::badSignature: return "Jwt verification fails";
  }
  return "Jwt verification fails";
}

core::Result<JwtRule> JwtRule::compile(const json& rule, const std::string& where,
                                       JwksFetcher* fetcher) {
  if (!rule.is_object()) return bad(where, "must be an object");
  JwtRule r;
  auto issuer = rule.find("issuer");
  if (issuer == rule.end() || !issuer->is_string() || issuer->get_ref<const std::string&>().empty())
    return bad(where, "issuer is required");
  r.issuer_ = issuer->get<std::string>();
  if (auto s = readStrings(rule, "audiences", where, r.audiences_); !s.ok()) return s;
  if (auto s = readLocations(rule, where, r.locations_); !s.ok()) return s;
  if (auto s = readOutputs(rule, where, r.outputPayloadToHeader_, r.outputClaimToHeaders_);
      !s.ok())
    return s;
  if (auto it = rule.find("forwardOriginalToken"); it != rule.end() && !it->is_null()) {
    if (!it->is_boolean()) return bad(where, "forwardOriginalToken must be true or false");
    r.forwardOriginalToken_ = it->get<bool>();
  }
  std::string jwks = rule.contains("jwks") && rule["jwks"].is_string() ? rule["jwks"].get<std::string>() : "";
  std::string uri = rule.contains("jwksUri") && rule["jwksUri"].is_string() ? rule["jwksUri"].get<std::string>() : "";
  if (rule.contains("jwks") && !rule["jwks"].is_string()) return bad(where, "jwks must be a string");
  if (rule.contains("jwksUri") && !rule["jwksUri"].is_string())
    return bad(where, "jwksUri must be a string");
  // As Istio: inline keys win over a URI.
  if (!jwks.empty()) {
    auto keys = Jwks::parse(jwks);
    if (!keys.ok()) return bad(where, keys.status().message());
    r.inlineKeys_ = std::move(*keys);
  } else if (!uri.empty()) {
    if (!JwksUrl::parse(uri)) return bad(where, "jwksUri \"" + uri + "\" is not an http(s) URL");
    r.remoteKeys_ = fetcher ? fetcher->subscribe(uri) : std::make_shared<JwksSource>(uri);
  } else {
    return bad(where, "jwks or jwksUri is required (keys are not discovered from the issuer)");
  }
  return r;
}

JwtFailure JwtRule::verify(const Jwt& jwt, int64_t now) const {
  if (jwt.expires && now > *jwt.expires + kClockSkewSeconds) return JwtFailure::expired;
  if (jwt.notBefore && now + kClockSkewSeconds < *jwt.notBefore) return JwtFailure::notYetValid;
  if (!audiences_.empty()) {
    bool any = std::any_of(jwt.audiences.begin(), jwt.audiences.end(), [&](const std::string& a) {
      return std::find(audiences_.begin(), audiences_.end(), a) != audiences_.end();
    });
    if (!any) return JwtFailure::audience;
  }
  std::shared_ptr<const Jwks> keys = inlineKeys_ ? inlineKeys_ : remoteKeys_->keys();
  if (!keys) return JwtFailure::noJwks;
  if (verifiedBefore(jwt, keys)) return JwtFailure::none;
  bool candidate = false;
  for (const Jwk& key : keys->keys()) {
    if (key.alg() != jwt.alg) continue;
    if (!jwt.kid.empty() && !key.kid().empty() && key.kid() != jwt.kid) continue;
    candidate = true;
    if (key.verify(jwt.signingInput, jwt.signature)) {
      rememberVerified(jwt, keys);
      return JwtFailure::none;
    }
  }
  return candidate ? JwtFailure::badSignature : JwtFailure::unknownKid;
}

namespace {
// The whole token: the signing input and the signature bytes.
std::string tokenKey(const Jwt& jwt) {
  std::string key(jwt.signingInput);
  key.push_back('.');
  key.append(jwt.signature);
  return key;
}
}  // namespace

bool JwtRule::verifiedBefore(const Jwt& jwt, const std::shared_ptr<const Jwks>& keys) const {
  std::string key = tokenKey(jwt);
  std::lock_guard lock(verified_->mutex);
  auto it = verified_->byToken.find(key);
  return it != verified_->byToken.end() && it->second == keys;
}

void JwtRule::rememberVerified(const Jwt& jwt, std::shared_ptr<const Jwks> keys) const {
  std::string key = tokenKey(jwt);
  std::lock_guard lock(verified_->mutex);
  // Full: start again rather than track ages; refilling costs one check per live token.
  if (verified_->byToken.size() >= VerifiedTokens::kMax) verified_->byToken.clear();
  verified_->byToken[std::move(key)] = std::move(keys);
}

}  // namespace mesh::proxy::authn
