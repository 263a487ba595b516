#include "proxy/authz/engine.h"

namespace mesh::proxy::authz {

core::Result<AuthzEngine> AuthzEngine::compile(const nlohmann::json& policies) {
  AuthzEngine engine;
  if (policies.is_null()) return engine;
  if (!policies.is_array())
    return core::error(core::Code::invalid, "authorizationPolicies must be a list");
  for (const auto& resource : policies) {
    auto policy = Policy::compile(resource);
    if (!policy.ok()) return policy.status();
    switch (policy->action()) {
      case Action::deny: engine.deny_.push_back(std::move(*policy)); break;
      case Action::allow: engine.allow_.push_back(std::move(*policy)); break;
      case Action::audit: engine.audit_.push_back(std::move(*policy)); break;
    }
  }
  return engine;
}

Decision AuthzEngine::check(const Attributes& request) const {
  Decision d;
  for (const auto& p : audit_) {
    if (p.matches(request)) {
      d.audit = p.id();
      break;
    }
  }
  for (const auto& p : deny_) {
    if (p.matches(request)) {
      d.allowed = false;
      d.policy = p.id();
      return d;
    }
  }
  if (allow_.empty()) return d;
  for (const auto& p : allow_) {
    if (p.matches(request)) {
      d.policy = p.id();
      return d;
    }
  }
  d.allowed = false;
  return d;
}

}  // namespace mesh::proxy::authz
