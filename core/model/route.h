// The proxy-level routing model: what pilot compiles VirtualServices into and what the proxy
// matches requests against. It follows Istio's HTTPRoute closely (docs/model.md), with two
// differences: destinations are resolved to cluster names, and durations are milliseconds.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mesh::core::model {

// One of exact / prefix / regex, as in Istio's StringMatch.
struct StringMatch {
  enum class Kind { exact, prefix, regex };
  Kind kind = Kind::exact;
  std::string value;
};

struct RouteMatch {
  std::string name;
  std::optional<StringMatch> uri;
  std::optional<StringMatch> scheme;
  std::optional<StringMatch> method;
  std::optional<StringMatch> authority;
  // Names lower-case; "@request.auth.claims.<claim>" (nested: "<a>.<b>") matches a claim
  // of the request's validated JWT instead, as in Istio, its name as written.
  std::map<std::string, StringMatch> headers;
  std::map<std::string, StringMatch> withoutHeaders;  // must not match (or be absent)
  std::map<std::string, StringMatch> queryParams;
  std::optional<uint32_t> port;
  std::map<std::string, std::string> sourceLabels;
  std::string sourceNamespace;
  bool ignoreUriCase = false;
};

struct HeaderOperations {
  std::map<std::string, std::string> set;
  std::map<std::string, std::string> add;
  std::vector<std::string> remove;
  bool empty() const { return set.empty() && add.empty() && remove.empty(); }
};

struct Headers {
  HeaderOperations request;
  HeaderOperations response;
};

struct WeightedCluster {
  std::string cluster;  // a Cluster::name
  uint32_t weight = 100;
  Headers headers;
};

struct Redirect {
  std::string uri;
  std::string authority;
  std::optional<uint32_t> port;
  bool derivePort = false;
  std::string scheme;
  uint32_t code = 301;
};

struct DirectResponse {
  uint32_t status = 200;
  std::string body;
};

struct Rewrite {
  std::string uri;  // replaces the matched prefix (or the whole path for exact/regex)
  std::string authority;
  std::string uriRegex;         // uriRegexRewrite.match
  std::string uriRegexRewrite;  // uriRegexRewrite.rewrite
};

struct Retries {
  uint32_t attempts = 2;
  uint32_t perTryTimeoutMs = 0;  // 0: the route timeout applies
  // Istio's default list when a route says nothing.
  std::string retryOn = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes";
};

struct Fault {
  std::optional<uint32_t> delayMs;
  double delayPercent = 100;
  std::optional<uint32_t> abortStatus;
  double abortPercent = 100;
};

struct Mirror {
  std::string cluster;
  double percent = 100;
};

struct Cors {
  std::vector<StringMatch> allowOrigins;
  std::vector<std::string> allowMethods;
  std::vector<std::string> allowHeaders;
  std::vector<std::string> exposeHeaders;
  uint32_t maxAgeSeconds = 0;
  bool allowCredentials = false;
};

struct Route {
  std::string name;
  std::string virtualService;  // "name.namespace" it came from, shown by proxy-config
  std::vector<RouteMatch> match;  // empty: matches everything
  // Exactly one of: route (weighted clusters), redirect, directResponse.
  std::vector<WeightedCluster> route;
  std::optional<Redirect> redirect;
  std::optional<DirectResponse> directResponse;
  std::optional<Rewrite> rewrite;
  uint32_t timeoutMs = 0;  // 0: no timeout, Istio's default
  std::optional<Retries> retries;
  std::optional<Fault> fault;
  std::optional<Mirror> mirror;
  std::optional<Cors> cors;
  Headers headers;
};

// The routes for one set of host names; the first matching route wins.
struct VirtualHost {
  std::string name;                  // e.g. "reviews.default.svc.cluster.local:9080"
  std::vector<std::string> domains;  // "reviews", "reviews.default", ..., "*.example.com", "*"
  std::vector<Route> routes;
};

// A named route table that listeners refer to.
struct RouteTable {
  std::string name;
  std::vector<VirtualHost> virtualHosts;
};

}  // namespace mesh::core::model
