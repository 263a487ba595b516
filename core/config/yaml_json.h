// Internal to core/config: turns a parsed YAML document (yaml_tree.h) into nlohmann::json the way Kubernetes
// reads YAML (sigs.k8s.io/yaml, i.e. go-yaml v2), and records where each value came from.
//
// Typing of plain (unquoted) scalars follows go-yaml v2 so that a file means here what it
// means to kubectl: null, ~ and empty are null; true/false and YAML 1.1's yes/no/on/off/y/n
// are booleans; 10, -3, 0x1f, 0o17, 0755 (octal) are integers; 1.5, 1e3, .inf are floats;
// anything else is a string. Quoted scalars, block scalars and !!str are always strings.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config/resource.h"
#include "core/config/yaml_tree.h"

namespace mesh::core::config::detail {

struct ConvertError {
  Position position;
  std::string pointer;  // where in the converted value, as a JSON pointer
  std::string message;
};

// Limits that keep hostile input (alias bombs, deep nesting) from exhausting memory or stack.
constexpr std::size_t kMaxValues = 200'000;
constexpr int kMaxDepth = 128;

// Converts `node` of `doc`; positions are keyed by JSON pointer relative to `node`, with the
// lines the tree holds (already in file terms). A map entry's position is its key's, so an
// empty value still points at the line naming it. Aliases are expanded.
// Returns false, with the first problem in `error`, for duplicate keys, non-scalar keys,
// a bad explicit tag, text that is not UTF-8, or a limit exceeded.
bool yamlToJson(const YamlDocument& doc, const YamlNode& node, nlohmann::json& out,
                PositionTable& positions, ConvertError& error);

Position positionOf(const YamlNode& node);

// Strict UTF-8 (no overlong forms, surrogates or code points past U+10FFFF). The converter
// refuses strings that are not, so every loaded resource can be serialised as JSON.
bool isValidUtf8(std::string_view text);
// The text with each invalid sequence replaced by U+FFFD, for names quoted in errors.
std::string sanitizeUtf8(std::string_view text);

}  // namespace mesh::core::config::detail
