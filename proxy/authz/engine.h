// AuthzEngine: the AuthorizationPolicies that select one workload, evaluated in Istio's
// order: a matching DENY policy denies; then, if the workload has any ALLOW policy, the
// request must match one of them; with none it is allowed. AUDIT policies never change the
// decision; a match is only recorded. Compiled once per snapshot.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/status.h"
#include "proxy/authz/policy.h"

namespace mesh::proxy::authz {

struct Decision {
  bool allowed = true;
  // The policy that decided ("<namespace>.<name>"); empty for the defaults (no ALLOW
  // policy: allowed; ALLOW policies and none matched: denied).
  std::string_view policy;
  std::string_view audit;  // the first AUDIT policy that matched, if any
};

class AuthzEngine {
 public:
  // `policies` is the snapshot's authorizationPolicies: [{name, namespace, spec}].
  static core::Result<AuthzEngine> compile(const nlohmann::json& policies);

  bool empty() const { return deny_.empty() && allow_.empty() && audit_.empty(); }
  Decision check(const Attributes& request) const;

 private:
  std::vector<Policy> deny_, allow_, audit_;
};

}  // namespace mesh::proxy::authz
