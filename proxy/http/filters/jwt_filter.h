// JwtFilter: RequestAuthentication on the inbound side, before AuthzFilter. A request whose
// token passes carries its principal ("<iss>/<sub>") and claims in RequestState for
// AuthorizationPolicy's requestPrincipals and request.auth.*; one whose token fails is
// answered 401 with Envoy's words for the reason, and counted by reason; one with no token
// goes on unauthenticated.
#pragma once

#include "proxy/authn/jwt_authenticator.h"
#include "proxy/http/filter.h"

namespace mesh::proxy {

class JwtFilter final : public HttpFilter {
 public:
  explicit JwtFilter(const authn::JwtAuthenticator& authenticator)
      : authenticator_(authenticator) {}
  FilterStatus onRequestHeaders(ActiveRequest& request) override;

 private:
  const authn::JwtAuthenticator& authenticator_;  // owned by the request's RuntimeConfig
};

}  // namespace mesh::proxy
