// Annotation analyzers: Istio annotations mesh does not know (IST0108), on the wrong kind
// (IST0107), with invalid values (IST0125), deprecated (IST0135) or alpha (IST0136, only when
// asked for). Pod template annotations count as the Pod's; the workload's own metadata
// annotations count as the workload kind's, which is how an `inject` annotation on a
// Deployment's metadata shows up as misplaced.
#include "pilot/analysis/analyzer.h"
#include "pilot/analysis/annotation_table.h"
#include "pilot/analysis/codes.h"

namespace mesh::pilot::analysis {

namespace {

std::string joinKinds(const std::vector<std::string_view>& kinds) {
  std::string out;
  for (std::string_view k : kinds) out += (out.empty() ? "" : ", ") + std::string(k);
  return out;
}

void checkAnnotations(Context& ctx, const Resource& r, const Value& annotations,
                      const std::string& kind) {
  for (const auto& [key, value] : annotations.entries()) {
    if (!isIstioAnnotation(key)) continue;
    const AnnotationInfo* info = findAnnotation(key);
    if (info == nullptr) {
      ctx.report(codes::kUnknownAnnotation, r, &value, "Unknown annotation: " + key);
      continue;
    }
    bool placed = info->kinds.empty();
    for (std::string_view k : info->kinds) placed = placed || k == kind;
    if (!placed) {
      ctx.report(codes::kMisplacedAnnotation, r, &value,
                 "Misplaced annotation: " + key + " can only be applied to " +
                     joinKinds(info->kinds));
      continue;
    }
    if (info->phase == AnnotationPhase::deprecated) {
      std::string instead;
      if (!info->replacement.empty()) instead = " in favor of " + std::string(info->replacement);
      ctx.report(codes::kDeprecatedAnnotation, r, &value,
                 "Annotation " + quote(key) + " has been deprecated" + instead +
                     " and may not work in future Istio versions.");
    }
    if (info->phase == AnnotationPhase::alpha && ctx.settings().includeAlpha) {
      ctx.report(codes::kAlphaAnnotation, r, &value,
                 "Annotation " + quote(key) +
                     " is part of an alpha-phase feature and may be incompletely supported.");
    }
    const std::string problem = info->validate(value.text());
    if (!problem.empty()) {
      ctx.report(codes::kInvalidAnnotation, r, &value,
                 "Invalid annotation " + key + ": " + quote(value.text()) + " " + problem);
    }
  }
}

void analyzeAnnotations(Context& ctx) {
  for (const auto& [kind, resources] : ctx.allByKind()) {
    for (const Resource* r : resources) checkAnnotations(ctx, *r, r->annotations(), r->kind);
  }
  for (const Workload& w : ctx.workloads()) {
    if (!w.isPod) checkAnnotations(ctx, *w.resource, *w.annotations, "Pod");
  }
}

}  // namespace

void addAnnotationAnalyzers(std::vector<Analyzer>& out) {
  out.push_back({"annotations.K8sAnalyzer",
                 "Checks Istio annotations are known, correctly placed, valid and current",
                 {&codes::kUnknownAnnotation, &codes::kMisplacedAnnotation,
                  &codes::kInvalidAnnotation, &codes::kDeprecatedAnnotation,
                  &codes::kAlphaAnnotation},
                 analyzeAnnotations});
}

}  // namespace mesh::pilot::analysis
