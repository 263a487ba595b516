// Reading the spec of a resource that core/config has already validated: the fields have
// the right types when present, so these look-ups only supply defaults for absent ones.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mesh::pilot {

std::string specString(const nlohmann::json& j, const char* key, std::string fallback = "");
std::uint32_t specUint(const nlohmann::json& j, const char* key, std::uint32_t fallback = 0);
std::vector<std::string> specStrings(const nlohmann::json& j, const char* key);
std::map<std::string, std::string> specLabels(const nlohmann::json& j, const char* key);
// j[key] when it is an object or array, else an empty JSON null.
const nlohmann::json& specChild(const nlohmann::json& j, const char* key);

}  // namespace mesh::pilot
