// Deprecation analyzer (IST0002): fields Istio has deprecated in favour of newer ones, which
// still work today but are on their way out.
#include "pilot/analysis/analyzer.h"
#include "pilot/analysis/codes.h"

namespace mesh::pilot::analysis {

namespace {

void deprecated(Context& ctx, const Resource& r, const Value& field, const std::string& what,
                const std::string& instead) {
  if (!field.present()) return;
  ctx.report(codes::kDeprecated, r, &field,
             "Deprecated: " + what + " is deprecated; use " + instead + " instead.");
}

void checkTrafficPolicy(Context& ctx, const Resource& r, const Value& policy,
                        const std::string& where) {
  deprecated(ctx, r, policy["outlierDetection"]["consecutiveErrors"],
             where + "outlierDetection.consecutiveErrors",
             "consecutive5xxErrors or consecutiveGatewayErrors");
  for (const Value& port : policy["portLevelSettings"].items()) {
    deprecated(ctx, r, port["outlierDetection"]["consecutiveErrors"],
               where + "portLevelSettings.outlierDetection.consecutiveErrors",
               "consecutive5xxErrors or consecutiveGatewayErrors");
  }
}

void checkDeprecatedFields(Context& ctx) {
  for (const Resource* vs : ctx.ofKind("VirtualService")) {
    for (const Value& rule : vs->spec()["http"].items()) {
      deprecated(ctx, *vs, rule["mirrorPercent"], "VirtualService http.mirrorPercent",
                 "mirrorPercentage");
      deprecated(ctx, *vs, rule["mirror_percent"], "VirtualService http.mirror_percent",
                 "mirrorPercentage");
      deprecated(ctx, *vs, rule["fault"]["delay"]["percent"],
                 "VirtualService http.fault.delay.percent", "percentage");
    }
  }
  for (const Resource* dr : ctx.ofKind("DestinationRule")) {
    checkTrafficPolicy(ctx, *dr, dr->spec()["trafficPolicy"], "DestinationRule trafficPolicy.");
    for (const Value& subset : dr->spec()["subsets"].items()) {
      checkTrafficPolicy(ctx, *dr, subset["trafficPolicy"],
                         "DestinationRule subsets.trafficPolicy.");
    }
  }
}

}  // namespace

void addDeprecationAnalyzers(std::vector<Analyzer>& out) {
  out.push_back({"deprecation.DeprecationAnalyzer",
                 "Checks for fields Istio has deprecated",
                 {&codes::kDeprecated}, checkDeprecatedFields});
}

}  // namespace mesh::pilot::analysis
