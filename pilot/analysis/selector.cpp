// Workload selector analyzer: policies whose selector matches no pod (IST0127). A policy in
// the root namespace applies mesh-wide, so it is matched against every namespace.
#include "pilot/analysis/analyzer.h"
#include "pilot/analysis/codes.h"

namespace mesh::pilot::analysis {

namespace {

struct SelectorField {
  const char* kind;
  const char* path[2];  // spec.<path[0]>.<path[1]>
};

const SelectorField kSelectors[] = {
    {"AuthorizationPolicy", {"selector", "matchLabels"}},
    {"PeerAuthentication", {"selector", "matchLabels"}},
    {"RequestAuthentication", {"selector", "matchLabels"}},
    {"Telemetry", {"selector", "matchLabels"}},
    {"WasmPlugin", {"selector", "matchLabels"}},
    {"Sidecar", {"workloadSelector", "labels"}},
    {"EnvoyFilter", {"workloadSelector", "labels"}},
};

void checkSelectors(Context& ctx) {
  for (const SelectorField& s : kSelectors) {
    for (const Resource* r : ctx.ofKind(s.kind)) {
      const Value& labels = r->spec()[s.path[0]][s.path[1]];
      if (labels.size() == 0) continue;
      const std::string ns = r->ns == ctx.settings().rootNamespace ? "" : r->ns;
      if (!ctx.selectWorkloads(labels, ns).empty()) continue;
      ctx.report(codes::kNoMatchingWorkloadsFound, *r, &labels,
                 "No matching workloads for this resource with the following labels: " +
                     selectorString(labels));
    }
  }
}

}  // namespace

void addSelectorAnalyzers(std::vector<Analyzer>& out) {
  out.push_back({"selector.WorkloadSelectorAnalyzer",
                 "Checks the workload selectors of policies match at least one pod",
                 {&codes::kNoMatchingWorkloadsFound}, checkSelectors});
}

}  // namespace mesh::pilot::analysis
