#include "proxy/router/claim_match.h"

namespace mesh::proxy {

std::vector<std::string> claimPath(std::string_view matchName) {
  std::vector<std::string> path;
  if (!matchName.starts_with(kClaimMatchPrefix)) return path;
  std::string_view rest = matchName.substr(kClaimMatchPrefix.size());
  while (!rest.empty()) {
    size_t dot = rest.find('.');
    path.emplace_back(rest.substr(0, dot));
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  return path;
}

namespace {

bool valueMatches(const nlohmann::json& value, const StringMatcher& matcher) {
  if (value.is_string()) return matcher.matches(value.get_ref<const std::string&>());
  if (value.is_number() || value.is_boolean()) return matcher.matches(value.dump());
  return false;
}

}  // namespace

bool claimMatches(const nlohmann::json* claims, const std::vector<std::string>& path,
                  const StringMatcher& matcher) {
  if (claims == nullptr || path.empty()) return false;
  const nlohmann::json* at = claims;
  for (const auto& name : path) {
    if (!at->is_object()) return false;
    auto it = at->find(name);
    if (it == at->end()) return false;
    at = &*it;
  }
  if (!at->is_array()) return valueMatches(*at, matcher);
  for (const auto& item : *at) {
    if (valueMatches(item, matcher)) return true;
  }
  return false;
}

}  // namespace mesh::proxy
