#include "pilot/analysis/analyzer.h"

namespace mesh::pilot::analysis {

const std::vector<Analyzer>& allAnalyzers() {
  static const std::vector<Analyzer> analyzers = [] {
    std::vector<Analyzer> v;
    addSchemaAnalyzers(v);
    addAnnotationAnalyzers(v);
    addDeprecationAnalyzers(v);
    addDeploymentAnalyzers(v);
    addDestinationRuleAnalyzers(v);
    addGatewayAnalyzers(v);
    addInjectionAnalyzers(v);
    addSelectorAnalyzers(v);
    addServiceAnalyzers(v);
    addServiceEntryAnalyzers(v);
    addVirtualServiceAnalyzers(v);
    return v;
  }();
  return analyzers;
}

}  // namespace mesh::pilot::analysis
