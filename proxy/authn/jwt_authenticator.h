// JwtAuthenticator: the RequestAuthentications that select one workload, compiled once per
// snapshot. For each request it looks for a token where any rule says to look, checks it
// against the rule of its issuer, and says who the request is from. As in Istio: a request
// with no token passes unauthenticated (AuthorizationPolicy decides whether that is
// enough); one whose token fails every rule that could take it is refused.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/status.h"
#include "core/http/header_map.h"
#include "proxy/authn/jwt_rule.h"

namespace mesh::proxy::authn {

struct AuthnResult {
  bool tokenFound = false;
  JwtFailure failure = JwtFailure::none;  // tokenFound and refused
  std::string principal;                  // "<iss>/<sub>" of a token that passed
  std::shared_ptr<const nlohmann::json> claims;
  bool authenticated() const { return tokenFound && failure == JwtFailure::none; }
};

class JwtAuthenticator {
 public:
  // `resources` is the snapshot's requestAuthentications: [{name, namespace, spec}].
  // Errors name the resource and rule: "requestAuthentications[0] (foo/jwt): jwtRules[1]:
  // issuer is required".
  static core::Result<JwtAuthenticator> compile(const nlohmann::json& resources,
                                                JwksFetcher* fetcher);

  bool empty() const { return rules_.empty(); }
  // `now` is seconds since the epoch. When a token passes, `headers` are changed as its
  // rule says: the token's header removed unless forwardOriginalToken, output headers set.
  AuthnResult authenticate(core::http::HeaderMap& headers, std::string_view query,
                           int64_t now) const;

 private:
  std::vector<JwtRule> rules_;
};

}  // namespace mesh::proxy::authn
