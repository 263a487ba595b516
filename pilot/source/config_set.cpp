#include "pilot/source/config_set.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <tuple>

namespace mesh::pilot {

namespace {

using core::config::ConfigError;
using core::config::Resource;

using Key = std::tuple<std::string, std::string, std::string>;  // kind, namespace, name

Key keyOf(const Resource& r) { return {r.kind, r.ns, r.name}; }

std::filesystem::file_time_type modified(const std::string& file) {
  std::error_code ec;
  auto t = std::filesystem::last_write_time(file, ec);
  return ec ? std::filesystem::file_time_type::min() : t;
}

// Two definitions of one resource (kind, namespace, name), as when a user copies Istio's
// reviews-v3 sample next to the reviews-v1 one: like `kubectl apply`, the newest file wins
// (the later document within one file); the others are reported and not served.
void dropDuplicates(ConfigSet& set) {
  std::vector<Resource> kept;
  kept.reserve(set.resources.size());
  auto& all = set.resources;
  for (size_t i = 0; i < all.size();) {
    size_t end = i + 1;
    while (end < all.size() && keyOf(all[end]) == keyOf(all[i])) ++end;
    size_t winner = i;
    for (size_t j = i + 1; j < end; ++j) {
      if (modified(all[j].file) >= modified(all[winner].file)) winner = j;
    }
    for (size_t j = i; j < end; ++j) {
      if (j == winner) continue;
      set.errors.push_back(ConfigError{
          all[j].file, all[j].line, 0, all[j].kind, all[j].ns, all[j].name, "",
          "also defined at " + all[winner].file + ":" + std::to_string(all[winner].line) +
              "; that newer (or later) definition is served, not this one"});
    }
    kept.push_back(std::move(all[winner]));
    i = end;
  }
  all = std::move(kept);
}

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
  dropDuplicates(*set);
  return set;
}

}  // namespace mesh::pilot
