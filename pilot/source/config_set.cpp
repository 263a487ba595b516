#include "pilot/source/config_set.h"

#include <algorithm>
#include <set>
#include <tuple>

namespace mesh::pilot {

namespace {

using core::config::ConfigError;
using core::config::Resource;

using Key = std::tuple<std::string, std::string, std::string>;  // kind, namespace, name

Key keyOf(const Resource& r) { return {r.kind, r.ns, r.name}; }

}  // namespace

ConfigSetPtr mergeWithLastGood(const ConfigSet* previous, core::config::LoadResult loaded,
                               std::uint64_t generation) {
  auto set = std::make_shared<ConfigSet>();
  set->generation = generation;
  set->resources = std::move(loaded.resources);
  set->errors = std::move(loaded.errors);
  set->skipped = std::move(loaded.skipped);
  if (previous) {
    std::set<Key> present;
    for (const auto& r : set->resources) present.insert(keyOf(r));
    // Invalid resources are identified either by their name (a validation error) or only by
    // their file (a syntax error: the whole file's old resources stay).
    std::set<Key> invalid;
    std::set<std::string> brokenFiles;
    for (const ConfigError& e : set->errors) {
      if (!e.kind.empty() && !e.name.empty()) {
        invalid.insert({e.kind, e.ns.empty() ? "default" : e.ns, e.name});
      } else {
        brokenFiles.insert(e.file);
      }
    }
    for (const auto& old : previous->resources) {
      Key key = keyOf(old);
      if (present.count(key)) continue;
      if (invalid.count(key) || brokenFiles.count(old.file)) {
        set->resources.push_back(old);
        set->keptFromBefore.push_back(old.ref());
        present.insert(key);
      }
    }
  }
  std::stable_sort(set->resources.begin(), set->resources.end(),
                   [](const Resource& a, const Resource& b) { return keyOf(a) < keyOf(b); });
  return set;
}

}  // namespace mesh::pilot
