// Internal to core/config: a small declarative way to write the shape of a resource, shared
// by the per-group validators (validate_networking.cpp, validate_security.cpp,
// validate_kubernetes.cpp).
//
// A Check looks at one JSON value at one FieldPath and reports what is wrong through the
// Context, which turns the path into file, line and resource identity. Checks are built once
// (function-local statics) and shared by every resource of a kind. Null counts as absent,
// as it does when Kubernetes decodes YAML into Istio's protobuf types.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config/field_path.h"
#include "core/config/resource.h"

namespace mesh::core::config::schema {

using nlohmann::json;

class Context {
 public:
  Context(const Resource& resource, std::vector<ConfigError>& errors)
      : resource_(resource), errors_(errors) {}

  // Records an error at `path`, on the line of that field (or of its nearest parent).
  void error(const FieldPath& path, std::string message);
  std::size_t errorCount() const { return count_; }

 private:
  const Resource& resource_;
  std::vector<ConfigError>& errors_;
  std::size_t count_ = 0;
};

using Check = std::function<void(Context&, const json&, const FieldPath&)>;

struct Field {
  std::string_view name;
  Check check;
  bool required = false;
};
constexpr bool kRequired = true;

enum class Unknown { reject, allow };

// An object with these fields. Fields not listed are errors (Istio's schema is strict)
// unless `unknown` is allow (Kubernetes kinds, of which mesh reads only a few fields).
// `rules` run after the fields, for constraints across them; they see only objects.
Check object(std::vector<Field> fields, std::vector<Check> rules = {},
             Unknown unknown = Unknown::reject);
Check listOf(Check item, std::size_t minItems = 0);
Check mapOf(Check value);  // an object whose keys are data (labels, header names)
Check any();
Check string();
Check nonEmptyString();
Check boolean();
Check integer(std::int64_t min, std::int64_t max);
Check number(double min, double max);
Check port();  // an integer 1..65535
Check duration();
Check enumOf(std::vector<std::string_view> values);
Check regex();  // a string that compiles as a regular expression
Check stringList();
Check stringMap();  // string keys to string values
Check stringMatch();  // Istio's StringMatch: exactly one of exact, prefix, regex
Check allOf(std::vector<Check> checks);

// Rules for object(): constraints between fields of one object.
Check exactlyOneOf(std::vector<std::string_view> fields);
Check atMostOneOf(std::vector<std::string_view> fields);
Check oneOrMoreOf(std::vector<std::string_view> fields);
// `field` may be set only when `other` is (e.g. portLevelMtls needs a selector).
Check needs(std::string_view field, std::string_view other);

// Whether an object sets `name` to something other than null.
bool has(const json& object, std::string_view name);

}  // namespace mesh::core::config::schema
