#include "cmd/up/ingress.h"

#include <set>

#include <nlohmann/json.hpp>

namespace mesh::cmd::up {

namespace {

const nlohmann::json& child(const nlohmann::json& j, const char* key) {
  static const nlohmann::json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

bool selects(const nlohmann::json& selector, const std::map<std::string, std::string>& labels) {
  if (!selector.is_object() || selector.empty()) return false;
  for (const auto& [k, v] : selector.items()) {
    auto it = labels.find(k);
    if (!v.is_string() || it == labels.end() || it->second != v.get<std::string>()) return false;
  }
  return true;
}

}  // namespace

std::vector<std::uint32_t> gatewayPorts(const std::vector<core::config::Resource>& resources,
                                        const std::map<std::string, std::string>& labels) {
  std::vector<std::uint32_t> out;
  std::set<std::uint32_t> seen;
  for (const auto& r : resources) {
    if (r.kind != "Gateway" || !selects(child(r.spec, "selector"), labels)) continue;
    const auto& servers = child(r.spec, "servers");
    if (!servers.is_array()) continue;
    for (const auto& server : servers) {
      const auto& number = child(child(server, "port"), "number");
      if (!number.is_number_integer()) continue;
      auto port = number.get<std::int64_t>();
      if (port <= 0 || port > 65535 || !seen.insert(static_cast<std::uint32_t>(port)).second)
        continue;
      out.push_back(static_cast<std::uint32_t>(port));
    }
  }
  return out;
}

}  // namespace mesh::cmd::up
