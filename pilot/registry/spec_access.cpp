#include "pilot/registry/spec_access.h"

namespace mesh::pilot {

namespace {
const nlohmann::json kNull;
}

const nlohmann::json& specChild(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::string specString(const nlohmann::json& j, const char* key, std::string fallback) {
  const auto& v = specChild(j, key);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  return fallback;
}

std::uint32_t specUint(const nlohmann::json& j, const char* key, std::uint32_t fallback) {
  const auto& v = specChild(j, key);
  if (v.is_number_integer() && v.get<long long>() >= 0 && v.get<long long>() <= UINT32_MAX) {
    return static_cast<std::uint32_t>(v.get<long long>());
  }
  return fallback;
}

std::vector<std::string> specStrings(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  const auto& v = specChild(j, key);
  if (!v.is_array()) return out;
  for (const auto& item : v) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

std::map<std::string, std::string> specLabels(const nlohmann::json& j, const char* key) {
  std::map<std::string, std::string> out;
  const auto& v = specChild(j, key);
  if (!v.is_object()) return out;
  for (const auto& [k, value] : v.items()) {
    if (value.is_string()) out[k] = value.get<std::string>();
  }
  return out;
}

}  // namespace mesh::pilot
