// Schema validation analyzer (IST0106). The schemas of Istio's kinds live in core/config,
// whose loader refuses what pilot would refuse; analysis reports the same findings, so
// `mesh analyze` and the control plane never disagree on what is valid. core/config checks
// unknown fields, types, enums, ranges, durations, regexes and weights adding up to 100.
#include "pilot/analysis/analyzer.h"
#include "pilot/analysis/codes.h"

namespace mesh::pilot::analysis {

namespace {

bool istioGroup(const std::string& group) {
  return group == "networking.istio.io" || group == "security.istio.io";
}

void reportSchemaErrors(Context& ctx) {
  for (const core::config::ConfigError& e : ctx.schemaErrors()) {
    if (e.kind.empty()) continue;  // unreadable text: reported as a load error already
    const Resource* r = ctx.find(e.kind, isClusterScoped(e.kind) ? "" : e.ns, e.name);
    if (r == nullptr || r->file != e.file || !istioGroup(r->group())) continue;
    ctx.reportAt(codes::kSchemaValidationError, *r, e.line,
                 "Schema validation error: " + (e.field.empty() ? "" : e.field + ": ") +
                     e.message);
  }
}

}  // namespace

void addSchemaAnalyzers(std::vector<Analyzer>& out) {
  out.push_back({"schema.ValidationAnalyzer",
                 "Checks Istio resources against their schemas (fields, types, values)",
                 {&codes::kSchemaValidationError}, reportSchemaErrors});
}

}  // namespace mesh::pilot::analysis
