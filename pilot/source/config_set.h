// ConfigSet: the Istio and Kubernetes resources pilot serves at one moment, immutable and
// shared by pointer between the push round that compiles it and the debug pages that show it.
//
// "Last good" rule: when a reload finds a resource invalid, the version of that resource
// that was served before stays in the set (and the error is reported), so one bad edit
// never takes a route or a policy away from running proxies. A file that cannot be parsed at
// all keeps every resource it held before.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/config/resource.h"

namespace mesh::pilot {

struct ConfigSet {
  std::uint64_t generation = 0;
  std::vector<core::config::Resource> resources;  // sorted by kind, namespace, name
  std::vector<core::config::ConfigError> errors;  // of the latest load
  std::vector<core::config::SkippedNote> skipped;
  // Resources served from an earlier load because their latest version is invalid.
  std::vector<std::string> keptFromBefore;  // Resource::ref() of each
};

using ConfigSetPtr = std::shared_ptr<const ConfigSet>;

// Combines a fresh load with what was served before, following the last-good rule.
ConfigSetPtr mergeWithLastGood(const ConfigSet* previous, core::config::LoadResult loaded,
                               std::uint64_t generation);

}  // namespace mesh::pilot
