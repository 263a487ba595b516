#include "core/model/delta.h"

#include <map>
#include <set>
#include <string>

#include "core/model/json.h"

namespace mesh::core::model {

namespace {

template <typename T>
void diffList(const std::vector<T>& base, const std::vector<T>& next, const char* key,
              nlohmann::json& out) {
  std::map<std::string, std::string> old;
  for (const auto& item : base) old[item.name] = nlohmann::json(item).dump();
  nlohmann::json upserts = nlohmann::json::array();
  std::set<std::string> kept;
  for (const auto& item : next) {
    kept.insert(item.name);
    nlohmann::json j = item;
    auto it = old.find(item.name);
    if (it == old.end() || it->second != j.dump()) upserts.push_back(std::move(j));
  }
  nlohmann::json removed = nlohmann::json::array();
  for (const auto& [name, text] : old) {
    if (!kept.count(name)) removed.push_back(name);
  }
  if (!upserts.empty()) out[key] = std::move(upserts);
  if (!removed.empty()) out["removed"][key] = std::move(removed);
}

template <typename T>
Status applyList(std::vector<T>& items, const nlohmann::json& delta, const char* key) {
  if (auto removed = delta.find("removed"); removed != delta.end()) {
    if (!removed->is_object()) return error(Code::invalid, "removed: must be an object");
    if (auto names = removed->find(key); names != removed->end()) {
      if (!names->is_array()) return error(Code::invalid, std::string("removed.") + key + ": must be a list");
      std::set<std::string> gone;
      for (const auto& n : *names) {
        if (n.is_string()) gone.insert(n.get<std::string>());
      }
      std::erase_if(items, [&](const T& item) { return gone.count(item.name) > 0; });
    }
  }
  auto list = delta.find(key);
  if (list == delta.end()) return {};
  if (!list->is_array()) return error(Code::invalid, std::string(key) + ": must be a list");
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < items.size(); ++i) index[items[i].name] = i;
  for (std::size_t i = 0; i < list->size(); ++i) {
    T item;
    try {
      item = (*list)[i].get<T>();
    } catch (const std::exception& e) {
      return error(Code::invalid, std::string(key) + "[" + std::to_string(i) + "]: " + e.what());
    }
    if (item.name.empty()) {
      return error(Code::invalid, std::string(key) + "[" + std::to_string(i) + "]: name is required");
    }
    auto it = index.find(item.name);
    if (it != index.end()) {
      items[it->second] = std::move(item);
    } else {
      index[item.name] = items.size();
      items.push_back(std::move(item));
    }
  }
  return {};
}

// Route tables present on both sides change by virtual host; others travel whole.
void diffRouteTables(const Snapshot& base, const Snapshot& next, nlohmann::json& out) {
  std::vector<RouteTable> whole;
  for (const auto& table : next.routeTables) {
    const RouteTable* old = base.findRouteTable(table.name);
    if (!old) {
      whole.push_back(table);
      continue;
    }
    nlohmann::json hosts = nlohmann::json::object();
    diffList(old->virtualHosts, table.virtualHosts, "hosts", hosts);
    if (hosts.contains("hosts")) out["virtualHosts"][table.name] = hosts["hosts"];
    if (hosts.contains("removed")) out["removed"]["virtualHosts"][table.name] = hosts["removed"]["hosts"];
  }
  for (const auto& table : base.routeTables) {
    if (!next.findRouteTable(table.name)) out["removed"]["routeTables"].push_back(table.name);
  }
  if (!whole.empty()) out["routeTables"] = whole;
}

RouteTable* findTable(Snapshot& snapshot, const std::string& name) {
  for (auto& table : snapshot.routeTables) {
    if (table.name == name) return &table;
  }
  return nullptr;
}

Status applyVirtualHosts(Snapshot& next, const nlohmann::json& delta) {
  auto removed = delta.find("removed");
  if (removed != delta.end() && removed->is_object()) {
    if (auto byTable = removed->find("virtualHosts"); byTable != removed->end()) {
      if (!byTable->is_object()) return error(Code::invalid, "removed.virtualHosts: must be an object");
      for (const auto& [table, names] : byTable->items()) {
        RouteTable* t = findTable(next, table);
        if (!t) return error(Code::invalid, "removed.virtualHosts: unknown route table \"" + table + "\"");
        nlohmann::json wrapped = {{"removed", {{"hosts", names}}}};
        if (Status s = applyList(t->virtualHosts, wrapped, "hosts"); !s.ok()) return s;
      }
    }
  }
  auto byTable = delta.find("virtualHosts");
  if (byTable == delta.end()) return {};
  if (!byTable->is_object()) return error(Code::invalid, "virtualHosts: must be an object");
  for (const auto& [table, hosts] : byTable->items()) {
    RouteTable* t = findTable(next, table);
    if (!t) return error(Code::invalid, "virtualHosts: unknown route table \"" + table + "\"");
    nlohmann::json wrapped = {{"hosts", hosts}};
    if (Status s = applyList(t->virtualHosts, wrapped, "hosts"); !s.ok()) {
      return error(Code::invalid, "virtualHosts." + table + ": " + s.message());
    }
  }
  return {};
}

}  // namespace

nlohmann::json makeDelta(const Snapshot& base, const Snapshot& next) {
  nlohmann::json out = nlohmann::json::object();
  out["version"] = next.version;
  diffList(base.listeners, next.listeners, "listeners", out);
  diffRouteTables(base, next, out);
  diffList(base.clusters, next.clusters, "clusters", out);
  if (base.outboundTrafficPolicy != next.outboundTrafficPolicy) {
    out["outboundTrafficPolicy"] = next.outboundTrafficPolicy;
  }
  if (base.authorizationPolicies != next.authorizationPolicies) {
    out["authorizationPolicies"] = next.authorizationPolicies;
  }
  if (base.requestAuthentications != next.requestAuthentications) {
    out["requestAuthentications"] = next.requestAuthentications;
  }
  return out;
}

Result<Snapshot> applyDelta(const Snapshot& base, const nlohmann::json& delta) {
  if (!delta.is_object()) return error(Code::invalid, "delta: must be an object");
  Snapshot next = base;
  if (auto v = delta.find("version"); v != delta.end() && v->is_string()) next.version = *v;
  if (auto v = delta.find("outboundTrafficPolicy"); v != delta.end()) {
    if (!v->is_string()) return error(Code::invalid, "outboundTrafficPolicy: must be a string");
    next.outboundTrafficPolicy = *v;
  }
  for (const char* key : {"authorizationPolicies", "requestAuthentications"}) {
    auto v = delta.find(key);
    if (v == delta.end()) continue;
    if (!v->is_array()) return error(Code::invalid, std::string(key) + ": must be a list");
    (std::string(key) == "authorizationPolicies" ? next.authorizationPolicies
                                                 : next.requestAuthentications) = *v;
  }
  if (Status s = applyList(next.clusters, delta, "clusters"); !s.ok()) return s;
  if (Status s = applyList(next.routeTables, delta, "routeTables"); !s.ok()) return s;
  if (Status s = applyVirtualHosts(next, delta); !s.ok()) return s;
  if (Status s = applyList(next.listeners, delta, "listeners"); !s.ok()) return s;
  if (Status s = checkReferences(next); !s.ok()) return s;
  return next;
}

}  // namespace mesh::core::model
