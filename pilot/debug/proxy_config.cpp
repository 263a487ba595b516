#include "pilot/debug/proxy_config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "pilot/debug/proxy_status.h"

namespace mesh::pilot {

namespace {

using Json = nlohmann::json;
using Rows = std::vector<std::vector<std::string>>;

std::string str(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

uint64_t num(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

bool flag(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

std::string orDash(const std::string& s) { return s.empty() ? "-" : s; }

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const Json& list(const Json& doc, const char* key) {
  static const Json kEmpty = Json::array();
  if (!doc.is_object()) return kEmpty;
  auto it = doc.find(key);
  return it != doc.end() && it->is_array() ? *it : kEmpty;
}

// Istio's cluster names say the direction: "outbound|9080|v1|reviews..." or "inbound|9080||".
std::string clusterDirection(const std::string& name) {
  auto bar = name.find('|');
  if (bar == std::string::npos) return "";
  std::string head = name.substr(0, bar);
  return head == "outbound" || head == "inbound" ? head : "";
}

bool isIp(const std::string& address) {
  unsigned char buf[16];
  return inet_pton(AF_INET, address.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, address.c_str(), buf) == 1;
}

// How the proxy finds a cluster's hosts, in Envoy's words: the original destination of a
// captured connection, names resolved by DNS, or the addresses the snapshot lists.
std::string clusterType(const Json& c) {
  auto lb = c.find("loadBalancer");
  if (lb != c.end() && lb->is_object() && str(*lb, "policy") == "PASSTHROUGH")
    return "ORIGINAL_DST";
  for (const auto& e : list(c, "endpoints")) {
    if (!isIp(str(e, "address"))) return "STRICT_DNS";
  }
  return "STATIC";
}

bool keepCluster(const Json& c, const ProxyConfigFilter& f) {
  if (!f.fqdn.empty() && str(c, "service") != f.fqdn) return false;
  if (f.port != 0 && num(c, "port") != f.port) return false;
  if (!f.subset.empty() && str(c, "subset") != f.subset) return false;
  if (!f.direction.empty() && clusterDirection(str(c, "name")) != lower(f.direction)) return false;
  return true;
}

bool keepListener(const Json& l, const ProxyConfigFilter& f) {
  if (f.port != 0 && num(l, "port") != f.port) return false;
  if (!f.address.empty() && str(l, "address") != f.address) return false;
  return true;
}

bool keepRouteTable(const Json& t, const ProxyConfigFilter& f) {
  return f.name.empty() || str(t, "name") == f.name;
}

// A string match as istioctl writes a path: "/p*" for a prefix, "/p" exact, "~re" regex.
std::string stringMatch(const Json& m) {
  if (!m.is_object()) return "";
  std::string kind = str(m, "kind"), value = str(m, "value");
  if (kind == "prefix") return value + "*";
  if (kind == "regex") return "~" + value;
  return value;
}

std::string routeMatch(const Json& route) {
  const Json& matches = list(route, "match");
  if (matches.empty()) return "/*";
  std::string out;
  for (const auto& m : matches) {
    if (!out.empty()) out += " || ";
    std::string one;
    auto add = [&one](const std::string& part) {
      if (part.empty()) return;
      if (!one.empty()) one += " && ";
      one += part;
    };
    auto uri = m.find("uri");
    add(uri != m.end() ? stringMatch(*uri) : std::string());
    auto method = m.find("method");
    if (method != m.end() && method->is_object()) add("method " + stringMatch(*method));
    auto authority = m.find("authority");
    if (authority != m.end() && authority->is_object()) add("authority " + stringMatch(*authority));
    for (const char* key : {"headers", "queryParams"}) {
      auto group = m.find(key);
      if (group == m.end() || !group->is_object()) continue;
      std::string label = std::string(key) == "headers" ? "header " : "query ";
      for (const auto& [name, value] : group->items()) add(label + name + "=" + stringMatch(value));
    }
    auto without = m.find("withoutHeaders");
    if (without != m.end() && without->is_object()) {
      for (const auto& [name, value] : without->items())
        add("header " + name + "!=" + stringMatch(value));
    }
    if (num(m, "port") != 0) add("port " + std::to_string(num(m, "port")));
    if (!str(m, "sourceNamespace").empty()) add("sourceNamespace " + str(m, "sourceNamespace"));
    out += one.empty() ? "/*" : one;
  }
  return out;
}

// istioctl shows the first domain and how many more there are.
std::string domains(const Json& vhost) {
  const Json& all = list(vhost, "domains");
  if (all.empty()) return "-";
  std::string first = all[0].is_string() ? all[0].get<std::string>() : "";
  if (all.size() == 1) return first;
  return first + " +" + std::to_string(all.size() - 1) + " more...";
}

std::string mtls(const Json& j, const char* key) {
  std::string mode = str(j, key);
  return mode.empty() ? "" : " (mTLS " + mode + ")";
}

}  // namespace

std::optional<ProxyConfigType> parseProxyConfigType(const std::string& name) {
  if (name == "cluster" || name == "clusters") return ProxyConfigType::cluster;
  if (name == "listener" || name == "listeners") return ProxyConfigType::listener;
  if (name == "route" || name == "routes") return ProxyConfigType::route;
  if (name == "endpoint" || name == "endpoints") return ProxyConfigType::endpoint;
  if (name == "secret" || name == "secrets") return ProxyConfigType::secret;
  if (name == "all") return ProxyConfigType::all;
  return std::nullopt;
}

std::vector<AdminHost> parseAdminClusters(const std::string& text) {
  std::vector<AdminHost> hosts;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    // <cluster>::<host>::<stat>::<value>. Cluster names have no "::" but an IPv6 host does,
    // so the cluster ends at the first separator and the stat and value are the last two.
    auto first = line.find("::");
    auto last = line.rfind("::");
    if (first == std::string::npos || last == first) continue;
    auto middle = line.rfind("::", last - 1);
    if (middle == std::string::npos || middle < first + 2 || last < middle + 2) continue;
    std::string cluster = line.substr(0, first);
    std::string host = line.substr(first + 2, middle - first - 2);
    std::string stat = line.substr(middle + 2, last - middle - 2);
    std::string value = line.substr(last + 2);
    if (host == "default_priority" || host.empty()) continue;
    if (hosts.empty() || hosts.back().cluster != cluster || hosts.back().address != host) {
      hosts.push_back({cluster, host, "", Json::object()});
    }
    if (stat == "health_flags") {
      hosts.back().healthFlags = value;
    } else {
      char* rest = nullptr;
      unsigned long long n = std::strtoull(value.c_str(), &rest, 10);
      if (!value.empty() && rest && *rest == '\0') {
        hosts.back().stats[stat] = n;
      } else {
        hosts.back().stats[stat] = value;
      }
    }
  }
  return hosts;
}

namespace {

// The entries of the snapshot's list `key` that `keep` accepts (objects only).
Json selectFrom(const Json& configDump, const char* key, const ProxyConfigFilter& filter,
                bool (*keep)(const Json&, const ProxyConfigFilter&)) {
  Json out = Json::array();
  for (const auto& entry : list(configDump, key)) {
    if (entry.is_object() && keep(entry, filter)) out.push_back(entry);
  }
  return out;
}

}  // namespace

nlohmann::json selectClusters(const Json& configDump, const ProxyConfigFilter& filter) {
  return selectFrom(configDump, "clusters", filter, keepCluster);
}

nlohmann::json selectListeners(const Json& configDump, const ProxyConfigFilter& filter) {
  return selectFrom(configDump, "listeners", filter, keepListener);
}

nlohmann::json selectRoutes(const Json& configDump, const ProxyConfigFilter& filter) {
  return selectFrom(configDump, "routeTables", filter, keepRouteTable);
}

// Envoy's health flags name each failed check; an outlier ejection is its own column, so
// a host is UNHEALTHY only for a failure of another kind (none that mesh reports yet).
static bool hostHealthy(const AdminHost& h) {
  std::string flags = h.healthFlags;
  for (std::size_t at; (at = flags.find("/failed_outlier_check")) != std::string::npos;) {
    flags.erase(at, std::string("/failed_outlier_check").size());
  }
  return flags.find("/failed") == std::string::npos;
}

static bool outlierOk(const AdminHost& h) {
  return h.healthFlags.find("/failed_outlier_check") == std::string::npos;
}

static bool keepHost(const AdminHost& h, const ProxyConfigFilter& f) {
  if (!f.cluster.empty() && h.cluster != f.cluster) return false;
  if (!f.status.empty() && (hostHealthy(h) ? "healthy" : "unhealthy") != lower(f.status))
    return false;
  return true;
}

nlohmann::json selectEndpoints(const std::vector<AdminHost>& hosts,
                               const ProxyConfigFilter& filter) {
  Json out = Json::array();
  for (const auto& h : hosts) {
    if (!keepHost(h, filter)) continue;
    out.push_back({{"cluster", h.cluster},
                   {"address", h.address},
                   {"health_flags", h.healthFlags},
                   {"stats", h.stats}});
  }
  return out;
}

std::string formatClusters(const Json& configDump, const ProxyConfigFilter& filter) {
  Rows rows{{"SERVICE FQDN", "PORT", "SUBSET", "DIRECTION", "TYPE", "DESTINATION RULE"}};
  for (const auto& c : selectClusters(configDump, filter)) {
    uint64_t port = num(c, "port");
    rows.push_back({orDash(str(c, "service")), port ? std::to_string(port) : "-",
                    orDash(str(c, "subset")), orDash(clusterDirection(str(c, "name"))),
                    clusterType(c), orDash(str(c, "destinationRule"))});
  }
  return formatColumns(rows);
}

std::string formatListeners(const Json& configDump, const ProxyConfigFilter& filter) {
  Rows rows{{"ADDRESS", "PORT", "MATCH", "DESTINATION"}};
  for (const auto& l : selectListeners(configDump, filter)) {
    std::string address = str(l, "address").empty() ? "127.0.0.1" : str(l, "address");
    std::string port = std::to_string(num(l, "port"));
    const Json& inbound = list(l, "inboundPorts");
    if (!inbound.empty()) {
      // The inbound listener sends each workload port to its own local cluster.
      for (const auto& ip : inbound) {
        rows.push_back({address, port,
                        "dst port " + std::to_string(num(ip, "port")) + mtls(ip, "mtls"),
                        "Cluster: " + str(ip, "cluster")});
      }
      rows.push_back({address, port, "ALL" + mtls(l, "defaultMtls"), "InboundPassthrough"});
      continue;
    }
    const Json& sniRoutes = list(l, "sniRoutes");
    if (!sniRoutes.empty()) {
      // A PASSTHROUGH listener: one row per SNI route, as Istio's filter chains show.
      for (const auto& r : sniRoutes) {
        std::string names;
        for (const auto& h : list(r, "sniHosts")) {
          if (!h.is_string()) continue;
          if (!names.empty()) names += ',';
          names += h.get_ref<const std::string&>();
        }
        rows.push_back({address, port, "SNI: " + names, "Cluster: " + str(r, "cluster")});
      }
      continue;
    }
    std::string match = str(l, "protocol") == "tcp" ? "ALL (tcp)" : "ALL (http)";
    if (flag(l, "capture")) match += ", captured";
    if (flag(l, "hasTls")) match += ", TLS";
    std::string destination = !str(l, "routeTable").empty() ? "Route: " + str(l, "routeTable")
                              : !str(l, "cluster").empty()  ? "Cluster: " + str(l, "cluster")
                                                            : "-";
    rows.push_back({address, port, match, destination});
  }
  return formatColumns(rows);
}

std::string formatRoutes(const Json& configDump, const ProxyConfigFilter& filter) {
  Rows rows{{"NAME", "VHOST NAME", "DOMAINS", "MATCH", "VIRTUAL SERVICE"}};
  for (const auto& t : selectRoutes(configDump, filter)) {
    for (const auto& vh : list(t, "virtualHosts")) {
      for (const auto& r : list(vh, "routes")) {
        rows.push_back({str(t, "name"), orDash(str(vh, "name")), domains(vh), routeMatch(r),
                        orDash(str(r, "virtualService"))});
      }
    }
  }
  return formatColumns(rows);
}

std::string formatEndpoints(const std::vector<AdminHost>& hosts, const ProxyConfigFilter& filter) {
  Rows rows{{"ENDPOINT", "STATUS", "OUTLIER CHECK", "CLUSTER"}};
  for (const auto& h : hosts) {
    if (!keepHost(h, filter)) continue;
    rows.push_back({h.address, hostHealthy(h) ? "HEALTHY" : "UNHEALTHY",
                    outlierOk(h) ? "OK" : "FAILED", h.cluster});
  }
  return formatColumns(rows);
}

std::string formatSecrets(const Json& certs, const std::string& now) {
  Rows rows{{"RESOURCE NAME", "TYPE", "STATUS", "VALID CERT", "SERIAL NUMBER", "NOT AFTER",
             "NOT BEFORE"}};
  for (const auto& c : list(certs, "certificates")) {
    std::string notBefore = str(c, "notBefore"), notAfter = str(c, "notAfter");
    // RFC 3339 UTC times of one fixed shape order as strings do.
    bool valid = !notBefore.empty() && !notAfter.empty() && notBefore <= now && now < notAfter;
    rows.push_back({str(c, "name"), str(c, "type"), "ACTIVE", valid ? "true" : "false",
                    orDash(str(c, "serialNumber")), orDash(notAfter), orDash(notBefore)});
  }
  return formatColumns(rows);
}

}  // namespace mesh::pilot
