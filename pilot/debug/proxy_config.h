// `mesh proxy-config`: one proxy's live configuration as the tables `istioctl proxy-config`
// prints, rendered from what the proxy's admin port serves: /config_dump (the running
// snapshot, docs/model.md), /clusters (per host counters and health flags) and /certs (the
// workload certificate and roots, without keys).
//
// It lives next to proxy-status because both are clients of a debug port that turn JSON into
// a table, and it reuses that file's httpGet. It reads only JSON and text, never proxy/
// types, so pilot and proxy stay independent of each other.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mesh::pilot {

// What a table shows: the kind of config and the rows the filters keep. An empty filter
// keeps everything; `port` 0 likewise.
struct ProxyConfigFilter {
  std::string fqdn;       // cluster: the service FQDN
  uint32_t port = 0;      // cluster, listener
  std::string subset;     // cluster
  std::string direction;  // cluster: inbound | outbound (any case)
  std::string address;    // listener
  std::string name;       // route: the route table
  std::string cluster;    // endpoint
  std::string status;     // endpoint: healthy | unhealthy (any case)
};

enum class ProxyConfigType { cluster, listener, route, endpoint, secret, all };

// "cluster" or "clusters", ... and "all"; nothing for anything else.
std::optional<ProxyConfigType> parseProxyConfigType(const std::string& name);

// One host of /clusters: "<cluster>::<host>::<stat>::<value>" lines folded together.
struct AdminHost {
  std::string cluster;
  std::string address;
  std::string healthFlags;  // "healthy" or "/failed_outlier_check" (Envoy's flags)
  nlohmann::json stats = nlohmann::json::object();
};
std::vector<AdminHost> parseAdminClusters(const std::string& text);

// The tables. Each takes the page it is drawn from; rows come in the page's order.
std::string formatClusters(const nlohmann::json& configDump, const ProxyConfigFilter& filter);
std::string formatListeners(const nlohmann::json& configDump, const ProxyConfigFilter& filter);
std::string formatRoutes(const nlohmann::json& configDump, const ProxyConfigFilter& filter);
std::string formatEndpoints(const std::vector<AdminHost>& hosts, const ProxyConfigFilter& filter);
// `now` is RFC 3339 UTC ("2026-11-26T01:00:00Z"); VALID CERT says whether it lies between a
// certificate's NOT BEFORE and NOT AFTER.
std::string formatSecrets(const nlohmann::json& certs, const std::string& now);

// The same selections as JSON, for `-o json`: the matching part of each page.
nlohmann::json selectClusters(const nlohmann::json& configDump, const ProxyConfigFilter& filter);
nlohmann::json selectListeners(const nlohmann::json& configDump, const ProxyConfigFilter& filter);
nlohmann::json selectRoutes(const nlohmann::json& configDump, const ProxyConfigFilter& filter);
nlohmann::json selectEndpoints(const std::vector<AdminHost>& hosts,
                               const ProxyConfigFilter& filter);

}  // namespace mesh::pilot
