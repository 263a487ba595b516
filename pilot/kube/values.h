// Values: the settings that fill the manifest templates, as `mesh install --set key=value`
// and `mesh manifest generate --set key=value` see them. A profile (default, demo, minimal)
// gives every key a value; `--set` overrides keys one by one. Each key has a type that its
// value is checked against before any template sees it, so a value can never change the shape
// of the YAML it is put into (no quotes, newlines or colons where the type has none).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"

namespace mesh::pilot::kube {

struct ValueSpec {
  std::string_view key;
  std::string_view type;  // "bool", "int", "cpu", "memory", "name", "domain", "image", "tag",
                          // "path", or "a|b|c" for a closed set
  std::string_view help;
};

// Every key that templates and `--set` may use, in the order the docs list them.
const std::vector<ValueSpec>& valueSpecs();
const std::vector<std::string_view>& profileNames();

class Values {
 public:
  // The named profile's values; an unknown name is an error that lists the known ones.
  static core::Result<Values> forProfile(std::string_view profile);
  // The profile from the last `profile=...` among `sets` (default: "default"), then every other
  // `key=value` applied in order: istioctl's habit, where the profile is the base layer.
  static core::Result<Values> fromSets(const std::vector<std::string>& sets);

  // "key=value"; the key must be known and the value must fit its type.
  core::Status set(std::string_view assignment);
  core::Status set(std::string_view key, std::string_view value);

  bool has(std::string_view key) const { return values_.count(std::string(key)) > 0; }
  const std::string& get(std::string_view key) const;  // empty for an unknown key
  bool enabled(std::string_view key) const { return get(key) == "true"; }
  const std::string& profile() const { return get("profile"); }
  const std::map<std::string, std::string, std::less<>>& all() const { return values_; }

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

}  // namespace mesh::pilot::kube
