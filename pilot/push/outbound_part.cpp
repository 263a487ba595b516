#include "pilot/push/outbound_part.h"

#include <map>

#include "core/model/json.h"

namespace mesh::pilot {

namespace {

template <typename T>
ItemList serialise(const std::vector<T>& items) {
  ItemList out;
  out.names.reserve(items.size());
  out.texts.reserve(items.size());
  for (const auto& item : items) {
    out.names.push_back(item.name);
    out.texts.push_back(nlohmann::json(item).dump());
  }
  return out;
}

std::vector<TableItems> serialiseTables(const std::vector<core::model::RouteTable>& tables) {
  std::vector<TableItems> out;
  for (const auto& t : tables) out.push_back({t.name, serialise(t.virtualHosts)});
  return out;
}

std::vector<std::string> tableTexts(const std::vector<TableItems>& tables) {
  std::vector<std::string> out;
  for (const auto& t : tables) {
    std::string text = "{\"name\":";
    text += nlohmann::json(t.name).dump();
    text += ",\"virtualHosts\":[";
    for (std::size_t i = 0; i < t.virtualHosts.texts.size(); ++i) {
      if (i) text += ',';
      text += t.virtualHosts.texts[i];
    }
    text += "]}";
    out.push_back(std::move(text));
  }
  return out;
}

bool sameItems(const ItemList& a, const ItemList& b) {
  return a.names == b.names && a.texts == b.texts;
}

// Items of `next` that are new or changed since `base`, and the names `base` had that
// `next` has not.
void diff(const ItemList& base, const ItemList& next, ItemList& changed,
          std::vector<std::string>& removed) {
  std::map<std::string_view, std::string_view> old;
  for (std::size_t i = 0; i < base.names.size(); ++i) old[base.names[i]] = base.texts[i];
  std::map<std::string_view, bool> kept;
  for (std::size_t i = 0; i < next.names.size(); ++i) {
    kept[next.names[i]] = true;
    auto it = old.find(next.names[i]);
    if (it == old.end() || it->second != next.texts[i]) {
      changed.names.push_back(next.names[i]);
      changed.texts.push_back(next.texts[i]);
    }
  }
  for (const auto& name : base.names) {
    if (!kept.count(name)) removed.push_back(name);
  }
}

void appendJoined(std::string& out, const std::vector<std::string>& texts) {
  for (std::size_t i = 0; i < texts.size(); ++i) {
    if (i) out += ',';
    out += texts[i];
  }
}

void appendList(std::string& out, const char* key, const std::vector<std::string>& texts,
                const std::string& extra) {
  out += '"';
  out += key;
  out += "\":[";
  appendJoined(out, texts);
  if (!extra.empty()) {
    if (!texts.empty()) out += ',';
    out += extra;
  }
  out += "],";
}

void appendTail(std::string& out, const OutboundPart& part, const InboundPart& in) {
  out += "\"outboundTrafficPolicy\":" + nlohmann::json(part.outboundTrafficPolicy).dump();
  out += ",\"authorizationPolicies\":" + in.authorizationPolicies;
  out += ",\"requestAuthentications\":" + in.requestAuthentications;
  out += "}}";
}

std::size_t sizeOf(const ItemList& l) {
  std::size_t n = 0;
  for (const auto& t : l.texts) n += t.size() + 1;
  return n;
}

// Tables both sides have change by virtual host; new ones travel whole.
void diffTables(const OutboundPart& previous, OutboundPart& part, nlohmann::json& removed) {
  std::map<std::string, const TableItems*> old;
  for (const auto& t : previous.routeTables) old[t.name] = &t;
  std::string hosts;
  for (const auto& t : part.routeTables) {
    auto it = old.find(t.name);
    if (it == old.end()) {
      part.deltaRouteTables.push_back(t);
      continue;
    }
    ItemList changed;
    std::vector<std::string> gone;
    diff(it->second->virtualHosts, t.virtualHosts, changed, gone);
    old.erase(it);
    if (!gone.empty()) removed["virtualHosts"][t.name] = gone;
    if (changed.texts.empty()) continue;
    if (!hosts.empty()) hosts += ',';
    hosts += nlohmann::json(t.name).dump();
    hosts += ":[";
    appendJoined(hosts, changed.texts);
    hosts += "]";
  }
  for (const auto& [name, table] : old) removed["routeTables"].push_back(name);
  if (!hosts.empty()) part.deltaVirtualHosts = "{" + hosts + "}";
}

}  // namespace

OutboundPartPtr makeOutboundPart(const std::string& key, OutboundConfig config,
                                 const OutboundPartPtr& previous, std::uint64_t nextId) {
  auto part = std::make_shared<OutboundPart>();
  part->key = key;
  part->listeners = serialise(config.listeners);
  part->routeTables = serialiseTables(config.routeTables);
  part->clusters = serialise(config.clusters);
  part->outboundTrafficPolicy = config.outboundTrafficPolicy;
  if (previous && sameItems(previous->listeners, part->listeners) &&
      previous->routeTables == part->routeTables &&
      sameItems(previous->clusters, part->clusters) &&
      previous->outboundTrafficPolicy == part->outboundTrafficPolicy) {
    return previous;
  }
  part->id = nextId;
  part->bytes = sizeOf(part->listeners) + sizeOf(part->clusters);
  for (const auto& t : part->routeTables) part->bytes += sizeOf(t.virtualHosts) + t.name.size() + 32;
  if (previous) {
    part->deltaBase = previous->id;
    nlohmann::json removed = nlohmann::json::object();
    std::vector<std::string> gone;
    diff(previous->listeners, part->listeners, part->deltaListeners, gone);
    if (!gone.empty()) removed["listeners"] = gone;
    gone.clear();
    diffTables(*previous, *part, removed);
    diff(previous->clusters, part->clusters, part->deltaClusters, gone);
    if (!gone.empty()) removed["clusters"] = gone;
    if (!removed.empty()) part->deltaRemoved = removed.dump();
  }
  return part;
}

InboundPart makeInboundPart(const InboundConfig& config) {
  InboundPart in;
  in.listener = nlohmann::json(config.listener).dump();
  std::vector<std::string> clusters;
  for (const auto& c : config.clusters) clusters.push_back(nlohmann::json(c).dump());
  appendJoined(in.clusters, clusters);
  in.authorizationPolicies = config.authorizationPolicies.dump();
  in.requestAuthentications = config.requestAuthentications.dump();
  return in;
}

std::string snapshotMessage(const std::string& version, const OutboundPart& out,
                            const InboundPart& in) {
  std::string v = nlohmann::json(version).dump();
  std::string msg;
  msg.reserve(out.bytes + in.listener.size() + in.clusters.size() + 512);
  msg += "{\"type\":\"snapshot\",\"version\":" + v + ",\"config\":{\"version\":" + v + ",";
  appendList(msg, "listeners", out.listeners.texts, in.listener);
  appendList(msg, "routeTables", tableTexts(out.routeTables), "");
  appendList(msg, "clusters", out.clusters.texts, in.clusters);
  appendTail(msg, out, in);
  return msg;
}

std::string deltaMessage(const std::string& version, const std::string& baseVersion,
                         const OutboundPart& out, const InboundPart& in) {
  std::string v = nlohmann::json(version).dump();
  std::string msg = "{\"type\":\"delta\",\"version\":" + v + ",\"base\":" +
                    nlohmann::json(baseVersion).dump() + ",\"config\":{\"version\":" + v + ",";
  appendList(msg, "listeners", out.deltaListeners.texts, in.listener);
  appendList(msg, "routeTables", tableTexts(out.deltaRouteTables), "");
  if (!out.deltaVirtualHosts.empty()) msg += "\"virtualHosts\":" + out.deltaVirtualHosts + ",";
  appendList(msg, "clusters", out.deltaClusters.texts, in.clusters);
  if (!out.deltaRemoved.empty()) msg += "\"removed\":" + out.deltaRemoved + ",";
  appendTail(msg, out, in);
  return msg;
}

}  // namespace mesh::pilot
