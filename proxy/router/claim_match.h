// Istio's JWT claim-based routing: a VirtualService match on the header
// "@request.auth.claims.<claim>" (a nested claim: "<a>.<b>") is matched against the claims of
// the request's JWT, once RequestAuthentication has validated it, not against a header. A
// claim that is a list matches when one of its strings does; a number or a boolean matches
// as its JSON text. Without a validated token no claim is there.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "proxy/router/string_matcher.h"

namespace mesh::proxy {

inline constexpr std::string_view kClaimMatchPrefix = "@request.auth.claims.";

// "@request.auth.claims.org.team" -> {"org", "team"}; empty for a header name.
std::vector<std::string> claimPath(std::string_view matchName);

// Whether the claim at `path` of `claims` (null: no validated token) has a value `matcher`
// accepts.
bool claimMatches(const nlohmann::json* claims, const std::vector<std::string>& path,
                  const StringMatcher& matcher);

}  // namespace mesh::proxy
