// CompiledRouteTable: a snapshot's RouteTable made ready for matching. Virtual hosts are
// found by the request's authority (exact names first, then `*.suffix` wildcards longest
// first, then `prefix*`, then `*`); within a host the first route whose match list has a
// matching entry wins (Istio's order). Built once per snapshot and shared read-only by every
// worker thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/base/status.h"
#include "core/http/header_map.h"
#include "core/model/route.h"
#include "proxy/router/claim_match.h"
#include "proxy/router/string_matcher.h"
#include "proxy/upstream/retry_policy.h"

namespace mesh::proxy {

// What a route is matched against. Views into the request being routed.
struct RouteRequest {
  std::string_view method;
  std::string_view scheme = "http";
  std::string_view authority;  // Host, with a port if the client sent one
  std::string_view path;       // without the query string
  std::string_view query;      // after '?', raw
  const core::http::HeaderMap* headers = nullptr;
  uint32_t port = 0;  // the port the request was addressed to
  // This proxy's workload, for sourceLabels / sourceNamespace.
  const std::map<std::string, std::string>* sourceLabels = nullptr;
  std::string_view sourceNamespace;
  // The claims of the request's validated JWT, for "@request.auth.claims.*" matches (null:
  // none; see claim_match.h).
  const nlohmann::json* claims = nullptr;
};

class CompiledMatch {
 public:
  static core::Result<CompiledMatch> compile(const core::model::RouteMatch& match);
  bool matches(const RouteRequest& request) const;
  // The uri matcher, for rewrite.uri (which replaces the matched prefix).
  const std::optional<StringMatcher>& uri() const { return uri_; }

 private:
  std::optional<StringMatcher> uri_, scheme_, method_, authority_;
  std::vector<std::pair<std::string, StringMatcher>> headers_, withoutHeaders_, queryParams_;
  std::vector<std::pair<std::vector<std::string>, StringMatcher>> claims_, withoutClaims_;
  std::optional<uint32_t> port_;
  std::map<std::string, std::string> sourceLabels_;
  std::string sourceNamespace_;
};

struct CompiledRoute {
  const core::model::Route* config = nullptr;  // points into the snapshot, which outlives this
  std::vector<CompiledMatch> matches;
  uint32_t totalWeight = 0;
  std::optional<Regex> rewriteRegex;
  // The route's retries block (or Istio's default) read once here, not on every request.
  RetryPolicy retryPolicy;
};

// The outcome of matching: the route and which of its match entries matched.
struct RouteMatchResult {
  const CompiledRoute* route = nullptr;
  const CompiledMatch* match = nullptr;  // null when the route has no match list
  const std::string* virtualHost = nullptr;
  explicit operator bool() const { return route != nullptr; }
};

class CompiledRouteTable {
 public:
  // `table` must outlive the result (both belong to one snapshot).
  static core::Result<std::shared_ptr<const CompiledRouteTable>> compile(
      const core::model::RouteTable& table);

  RouteMatchResult match(const RouteRequest& request) const;

  // The weighted destination for a random number `dice` in [0, totalWeight).
  static const core::model::WeightedCluster& pickCluster(const CompiledRoute& route,
                                                         uint64_t dice);

 private:
  struct Host {
    const core::model::VirtualHost* config = nullptr;
    std::vector<CompiledRoute> routes;
  };
  const Host* findHost(std::string_view authority) const;
  const Host* findHostExact(std::string_view host) const;

  std::vector<Host> hosts_;
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, size_t, NameHash, std::equal_to<>> exact_;  // lower-case
  std::vector<std::pair<std::string, size_t>> suffixes_;  // ".example.com", longest first
  std::vector<std::pair<std::string, size_t>> prefixes_;  // "api.", longest first
  std::optional<size_t> any_;
};

// Rewrites `path` as a route's rewrite block says: uri replaces the matched prefix (or the
// whole path for an exact or regex match), uriRegex/uriRegexRewrite substitutes.
std::string rewritePath(const CompiledRoute& route, const CompiledMatch* match,
                        std::string_view path);

}  // namespace mesh::proxy
