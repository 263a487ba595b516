// SPIFFE workload identity as mesh uses it: spiffe://<trust-domain>/ns/<namespace>/sa/<account>.
// The id travels as the single URI SAN of a workload certificate; peers are authorized by it.
#pragma once

#include <string>
#include <string_view>

#include "core/base/status.h"

namespace mesh::core {

class SpiffeId {
 public:
  // Accepts exactly spiffe://<trust-domain>/ns/<ns>/sa/<sa>. The trust domain is lower-case
  // letters, digits, '.', '-' and '_' (no port, no user info); each path segment is non-empty,
  // not "." or "..", and made of letters, digits, '.', '-' and '_'. No query or fragment.
  static Result<SpiffeId> parse(std::string_view uri);
  // Validates the parts as parse() would.
  static Result<SpiffeId> make(std::string_view trustDomain, std::string_view ns,
                               std::string_view serviceAccount);
  static bool validTrustDomain(std::string_view trustDomain);

  const std::string& trustDomain() const { return trustDomain_; }
  const std::string& ns() const { return ns_; }
  const std::string& serviceAccount() const { return serviceAccount_; }
  // "spiffe://cluster.local/ns/default/sa/web"
  std::string toString() const;

  friend bool operator==(const SpiffeId&, const SpiffeId&) = default;

 private:
  SpiffeId() = default;
  std::string trustDomain_;
  std::string ns_;
  std::string serviceAccount_;
};

}  // namespace mesh::core
