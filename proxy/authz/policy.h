// One Istio AuthorizationPolicy compiled for the data path: its action and its rules, each
// rule being `from` (any source), `to` (any operation) and `when` (every condition). A
// source, an operation and a condition are all lists of Conditions on request attributes,
// so one matcher serves the three. Istio's meaning throughout:
//   - a field matches when any of its values matches; its `not` twin when none does;
//   - every field given in one source (or operation) must match;
//   - a rule with no `from` / `to` / `when` does not restrict on that part; a policy with no
//     rules matches nothing;
//   - on TCP, an ALLOW rule that needs HTTP-only fields never matches, while a DENY rule
//     ignores those fields (so it denies more, never less).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/status.h"
#include "proxy/authz/attributes.h"
#include "proxy/authz/ip_block.h"
#include "proxy/authz/value_match.h"

namespace mesh::proxy::authz {

enum class Action { allow, deny, audit };

// One field or `when` key with its values and not-values.
struct Condition {
  enum class Attribute {
    principal, requestPrincipal, sourceNamespace, sourceIp, remoteIp, destinationIp,
    destinationPort, sni, host, method, path, header, authPrincipal, authAudiences,
    authPresenter, authClaim,
  };
  Attribute attribute = Attribute::principal;
  std::vector<std::string> key;  // header name, or the claim's path (nested claims)
  bool hasValues = false, hasNotValues = false;
  ValueSet values, notValues;
  std::vector<IpBlock> blocks, notBlocks;  // for the address attributes

  bool httpOnly() const;
  bool matches(const Attributes& request) const;
};

using Conditions = std::vector<Condition>;  // all must match

struct Rule {
  std::vector<Conditions> from;  // any; empty: any source
  std::vector<Conditions> to;    // any; empty: any operation
  Conditions when;               // all
};

class Policy {
 public:
  // `resource` is {name, namespace, spec} as pilot sends it. CUSTOM and anything Istio
  // would reject are errors naming the policy and the field.
  static core::Result<Policy> compile(const nlohmann::json& resource);

  Action action() const { return action_; }
  const std::string& id() const { return id_; }  // "<namespace>.<name>", as Envoy's RBAC logs it
  bool matches(const Attributes& request) const;

 private:
  Action action_ = Action::allow;
  std::string id_;
  std::vector<Rule> rules_;
};

}  // namespace mesh::proxy::authz
