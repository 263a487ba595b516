// AuthzFilter: the workload's AuthorizationPolicies (proxy/authz) checked on the inbound
// side, first in the chain, before anything reaches the app. A denied request is answered
// 403 with Istio's body "RBAC: access denied" and counted; an AUDIT match is logged.
#pragma once

#include "proxy/authz/engine.h"
#include "proxy/http/filter.h"
#include "proxy/http/request_state.h"

namespace mesh::proxy {

class AuthzFilter final : public HttpFilter {
 public:
  explicit AuthzFilter(const authz::AuthzEngine& engine) : engine_(engine) {}
  FilterStatus onRequestHeaders(ActiveRequest& request) override;

 private:
  const authz::AuthzEngine& engine_;  // owned by the request's RuntimeConfig
};

// The attributes of an inbound request, as the engine reads them.
authz::Attributes authzAttributes(const RequestState& request);

}  // namespace mesh::proxy
