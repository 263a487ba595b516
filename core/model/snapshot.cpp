#include "core/model/snapshot.h"

#include <set>

#include "core/model/json.h"

namespace mesh::core::model {

namespace {

// Parses each element of `json[key]` on its own, so an error names the element.
template <typename T>
Status parseList(const nlohmann::json& json, const char* key, std::vector<T>& out) {
  auto list = json.find(key);
  if (list == json.end() || list->is_null()) return {};
  if (!list->is_array()) return error(Code::invalid, std::string(key) + ": must be a list");
  for (size_t i = 0; i < list->size(); ++i) {
    const auto& item = (*list)[i];
    std::string where = std::string(key) + "[" + std::to_string(i) + "]";
    if (item.is_object() && item.contains("name") && item["name"].is_string() &&
        !item["name"].get_ref<const std::string&>().empty()) {
      where += " (" + item["name"].get<std::string>() + ")";
    }
    try {
      out.push_back(item.get<T>());
    } catch (const std::exception& e) {
      return error(Code::invalid, where + ": " + e.what());
    }
    if (out.back().name.empty()) return error(Code::invalid, where + ": name is required");
  }
  return {};
}

Status checkRoute(const Route& route, const std::set<std::string>& clusters,
                  const std::string& where) {
  int actions = (route.route.empty() ? 0 : 1) + (route.redirect ? 1 : 0) +
                (route.directResponse ? 1 : 0);
  if (actions != 1) {
    return error(Code::invalid,
                 where + ": needs exactly one of route, redirect, directResponse");
  }
  for (const auto& destination : route.route) {
    if (!clusters.count(destination.cluster)) {
      return error(Code::invalid, where + ": unknown cluster \"" + destination.cluster + "\"");
    }
  }
  if (route.mirror && !clusters.count(route.mirror->cluster)) {
    return error(Code::invalid, where + ": unknown mirror cluster \"" + route.mirror->cluster + "\"");
  }
  return {};
}

}  // namespace

Status checkReferences(const Snapshot& snapshot) {
  std::set<std::string> clusters, tables;
  for (const auto& cluster : snapshot.clusters) {
    if (!clusters.insert(cluster.name).second) {
      return error(Code::invalid, "clusters: duplicate name \"" + cluster.name + "\"");
    }
  }
  for (const auto& table : snapshot.routeTables) {
    tables.insert(table.name);
    for (const auto& host : table.virtualHosts) {
      for (size_t i = 0; i < host.routes.size(); ++i) {
        std::string where = "routeTables (" + table.name + ") virtualHosts (" + host.name +
                            ") routes[" + std::to_string(i) + "]";
        if (Status s = checkRoute(host.routes[i], clusters, where); !s.ok()) return s;
      }
    }
  }
  for (const auto& listener : snapshot.listeners) {
    std::string where = "listeners (" + listener.name + ")";
    if (!listener.routeTable.empty() && !tables.count(listener.routeTable)) {
      return error(Code::invalid, where + ": unknown route table \"" + listener.routeTable + "\"");
    }
    if (!listener.cluster.empty() && !clusters.count(listener.cluster)) {
      return error(Code::invalid, where + ": unknown cluster \"" + listener.cluster + "\"");
    }
    for (const auto& route : listener.sniRoutes) {
      if (!clusters.count(route.cluster)) {
        return error(Code::invalid, where + ": SNI route: unknown cluster \"" + route.cluster +
                                        "\"");
      }
    }
    for (const auto& port : listener.inboundPorts) {
      if (!clusters.count(port.cluster)) {
        return error(Code::invalid, where + ": inbound port " + std::to_string(port.port) +
                                        ": unknown cluster \"" + port.cluster + "\"");
      }
    }
  }
  if (snapshot.outboundTrafficPolicy != "ALLOW_ANY" &&
      snapshot.outboundTrafficPolicy != "REGISTRY_ONLY") {
    return error(Code::invalid, "outboundTrafficPolicy: unknown value \"" +
                                    snapshot.outboundTrafficPolicy + "\"");
  }
  return {};
}

const Cluster* Snapshot::findCluster(const std::string& name) const {
  for (const auto& cluster : clusters) {
    if (cluster.name == name) return &cluster;
  }
  return nullptr;
}

const RouteTable* Snapshot::findRouteTable(const std::string& name) const {
  for (const auto& table : routeTables) {
    if (table.name == name) return &table;
  }
  return nullptr;
}

Result<Snapshot> parseSnapshot(const nlohmann::json& json) {
  if (!json.is_object()) return error(Code::invalid, "snapshot: must be an object");
  Snapshot snapshot;
  if (auto v = json.find("version"); v != json.end() && v->is_string()) snapshot.version = *v;
  if (auto v = json.find("outboundTrafficPolicy"); v != json.end() && v->is_string()) {
    snapshot.outboundTrafficPolicy = *v;
  }
  for (const char* key : {"authorizationPolicies", "requestAuthentications"}) {
    auto v = json.find(key);
    if (v == json.end()) continue;
    if (!v->is_array()) return error(Code::invalid, std::string(key) + ": must be a list");
    (std::string(key) == "authorizationPolicies" ? snapshot.authorizationPolicies
                                                 : snapshot.requestAuthentications) = *v;
  }
  if (Status s = parseList(json, "clusters", snapshot.clusters); !s.ok()) return s;
  if (Status s = parseList(json, "routeTables", snapshot.routeTables); !s.ok()) return s;
  if (Status s = parseList(json, "listeners", snapshot.listeners); !s.ok()) return s;
  if (Status s = checkReferences(snapshot); !s.ok()) return s;
  return snapshot;
}

nlohmann::json toJson(const Snapshot& snapshot) {
  nlohmann::json json;
  json["version"] = snapshot.version;
  json["listeners"] = snapshot.listeners;
  json["routeTables"] = snapshot.routeTables;
  json["clusters"] = snapshot.clusters;
  json["outboundTrafficPolicy"] = snapshot.outboundTrafficPolicy;
  json["authorizationPolicies"] = snapshot.authorizationPolicies;
  json["requestAuthentications"] = snapshot.requestAuthentications;
  return json;
}

nlohmann::json toRedactedJson(const Snapshot& snapshot) {
  nlohmann::json json = toJson(snapshot);
  auto redact = [](nlohmann::json& holder) {
    auto key = holder.find("privateKeyPem");
    if (key != holder.end() && key->is_string() && !key->get_ref<const std::string&>().empty()) {
      *key = "[redacted]";
    }
  };
  for (auto& listener : json["listeners"]) {
    if (listener.contains("tls")) redact(listener["tls"]);
    if (!listener.contains("sniCertificates")) continue;
    for (auto& sni : listener["sniCertificates"]) redact(sni);
  }
  return json;
}

}  // namespace mesh::core::model
