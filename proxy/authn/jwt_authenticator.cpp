#include "proxy/authn/jwt_authenticator.h"

#include "core/http/chars.h"

namespace mesh::proxy::authn {

using nlohmann::json;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The value of query parameter `name`; tokens are base64url and dots, so no decoding.
std::optional<std::string_view> queryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::optional<std::string_view> extract(const TokenLocation& at,
                                        const core::http::HeaderMap& headers,
                                        std::string_view query) {
  std::optional<std::string_view> value =
      at.header ? headers.get(at.name) : queryParam(query, at.name);
  if (!value) return std::nullopt;
  std::string_view v = *value;
  if (!at.prefix.empty()) {
    if (v.size() < at.prefix.size() ||
        !core::http::equalsIgnoreCase(v.substr(0, at.prefix.size()), at.prefix))
      return std::nullopt;
    v.remove_prefix(at.prefix.size());
  }
  v = trim(v);
  if (v.empty()) return std::nullopt;
  return v;
}

std::optional<std::string> claimText(const json& payload, const std::string& claim) {
  auto it = payload.find(claim);
  if (it == payload.end()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number() || it->is_boolean()) return it->dump();
  return std::nullopt;
}

// A failure that says something about the token beats "no rule for this issuer", which
// every other rule reading the same header would also report.
bool moreTelling(JwtFailure a, JwtFailure b) {
  if (b == JwtFailure::none) return true;
  return b == JwtFailure::unknownIssuer && a != JwtFailure::unknownIssuer;
}

}  // namespace

core::Result<JwtAuthenticator> JwtAuthenticator::compile(const json& resources,
                                                         JwksFetcher* fetcher) {
  JwtAuthenticator out;
  if (resources.is_null()) return out;
  if (!resources.is_array())
    return core::error(core::Code::invalid, "requestAuthentications must be a list");
  for (size_t i = 0; i < resources.size(); ++i) {
    const json& r = resources[i];
    std::string where = "requestAuthentications[" + std::to_string(i) + "]";
    if (!r.is_object()) return core::error(core::Code::invalid, where + ": must be an object");
    where += " (" + r.value("namespace", "") + "/" + r.value("name", "") + ")";
    const json spec = r.value("spec", json::object());
    if (!spec.is_object()) return core::error(core::Code::invalid, where + ": spec must be an object");
    auto rules = spec.value("jwtRules", json::array());
    if (!rules.is_array())
      return core::error(core::Code::invalid, where + ": jwtRules must be a list");
    for (size_t j = 0; j < rules.size(); ++j) {
      auto rule = JwtRule::compile(rules[j], where + ": jwtRules[" + std::to_string(j) + "]",
                                   fetcher);
      if (!rule.ok()) return rule.status();
      out.rules_.push_back(std::move(*rule));
    }
  }
  return out;
}

AuthnResult JwtAuthenticator::authenticate(core::http::HeaderMap& headers, std::string_view query,
                                           int64_t now) const {
  AuthnResult result;
  // The output headers carry what a verified token said: whatever the client sent under
  // those names goes first, so an app can believe them.
  for (const JwtRule& rule : rules_) {
    if (!rule.outputPayloadToHeader().empty()) headers.remove(rule.outputPayloadToHeader());
    for (const auto& [header, claim] : rule.outputClaimToHeaders()) headers.remove(header);
  }
  for (const JwtRule& rule : rules_) {
    for (const TokenLocation& at : rule.locations()) {
      auto token = extract(at, headers, query);
      if (!token) continue;
      result.tokenFound = true;
      // Copied: the header it came from may be removed below.
      std::string text(*token);
      auto jwt = Jwt::parse(text);
      JwtFailure failure = !jwt ? JwtFailure::malformed
                           : jwt->issuer != rule.issuer() ? JwtFailure::unknownIssuer
                                                          : rule.verify(*jwt, now);
      if (failure != JwtFailure::none) {
        if (moreTelling(failure, result.failure)) result.failure = failure;
        continue;
      }
      result.failure = JwtFailure::none;
      result.principal = jwt->issuer + "/" + jwt->subject;
      if (!rule.outputPayloadToHeader().empty())
        headers.set(rule.outputPayloadToHeader(), jwt->payloadText);
      for (const auto& [header, claim] : rule.outputClaimToHeaders()) {
        if (auto value = claimText(jwt->payload, claim)) headers.set(header, *value);
      }
      if (at.header && !rule.forwardOriginalToken()) headers.remove(at.name);
      result.claims = std::make_shared<const json>(std::move(jwt->payload));
      return result;
    }
  }
  return result;
}

}  // namespace mesh::proxy::authn
