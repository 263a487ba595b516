// `mesh analyze` as a library: load sources, add the resources istioctl assumes in file mode
// (the default ingress gateway), run every analyzer, then apply suppressions and thresholds.
// The command in cmd/analyze.cpp only parses flags and prints what this returns.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "pilot/analysis/context.h"
#include "pilot/analysis/loader.h"
#include "pilot/analysis/message.h"

namespace mesh::pilot::analysis {

// "IST0102=Namespace frod", "IST0107=Pod *.default", "IST0101=VirtualService default/*".
struct Suppression {
  std::string code;     // may be "*"
  std::string pattern;  // glob over "Kind ns/name", "Kind name" or "Kind name.ns"
  bool matches(const Message& m) const;
};
core::Result<Suppression> parseSuppression(std::string_view text);

struct Options {
  Level outputThreshold = Level::info;
  Level failureThreshold = Level::error;
  std::vector<Suppression> suppressions;
  Settings settings;
  bool assumeIngressGateway = true;  // istioctl's file-mode default
};

// Istio's MeshConfig YAML: reads rootNamespace (and trustDomain's cousin, the DNS suffix,
// stays cluster.local). An empty text gives the defaults.
core::Result<Settings> parseMeshConfig(const std::string& text, Settings base);

struct Outcome {
  std::vector<Message> shown;       // at or above the output threshold, sorted
  size_t resourceCount = 0;         // resources analysed (the assumed gateway excluded)
  bool failed = false;              // a message at or above the failure threshold
  std::vector<LoadError> loadErrors;
};

// istioctl's exit status when analysis found issues at the failure threshold.
inline constexpr int kExitIssuesFound = 79;

Outcome analyze(const std::vector<Source>& sources, const Options& options);
// `schemaErrors`: what core/config's loader found in the same input (IST0106).
Outcome analyzeResources(std::vector<Resource> resources, const Options& options,
                         std::vector<core::config::ConfigError> schemaErrors = {});

// The resources istioctl assumes in file mode: a Service istio-ingressgateway and a Pod
// labelled istio=ingressgateway in the root namespace (ports 80, 443, 31400, 15443).
std::vector<Resource> defaultIngressGateway(const Settings& settings);

}  // namespace mesh::pilot::analysis
