// The Istio annotations mesh knows: where each may be placed, its feature phase, and how to
// check its value. The annotations analyzer reads this table; anything else in an istio.io
// domain is unknown.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mesh::pilot::analysis {

enum class AnnotationPhase { stable, alpha, deprecated };

struct AnnotationInfo {
  std::string_view name;
  std::vector<std::string_view> kinds;  // empty: any kind
  AnnotationPhase phase;
  std::string_view replacement;  // for deprecated ones: what to use instead; may be empty
  // "" when `value` is acceptable, else why it is not.
  std::string (*validate)(std::string_view value);
};

// nullptr for an annotation mesh does not know.
const AnnotationInfo* findAnnotation(std::string_view name);
// True for keys in an istio.io domain ("sidecar.istio.io/inject", "istio.io/rev").
bool isIstioAnnotation(std::string_view key);

}  // namespace mesh::pilot::analysis
