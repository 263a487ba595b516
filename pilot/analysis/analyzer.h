// The analyzer registry. An analyzer is a named check over the whole Context that reports
// messages of the types it declares. Each group lives in its own file (virtual_service.cpp,
// gateway.cpp, ...) and contributes its analyzers through one add* function.
#pragma once

#include <string_view>
#include <vector>

#include "pilot/analysis/context.h"

namespace mesh::pilot::analysis {

struct Analyzer {
  std::string_view name;         // "virtualservice.DestinationHostAnalyzer"
  std::string_view description;  // one line, for --list-analyzers
  std::vector<const MessageType*> produces;
  void (*run)(Context& ctx);
};

// Every analyzer, in a stable order.
const std::vector<Analyzer>& allAnalyzers();

// Group registration; each defined in the group's file.
void addVirtualServiceAnalyzers(std::vector<Analyzer>& out);
void addDestinationRuleAnalyzers(std::vector<Analyzer>& out);
void addGatewayAnalyzers(std::vector<Analyzer>& out);
void addServiceEntryAnalyzers(std::vector<Analyzer>& out);
void addServiceAnalyzers(std::vector<Analyzer>& out);
void addInjectionAnalyzers(std::vector<Analyzer>& out);
void addAnnotationAnalyzers(std::vector<Analyzer>& out);
void addDeploymentAnalyzers(std::vector<Analyzer>& out);
void addSelectorAnalyzers(std::vector<Analyzer>& out);
void addDeprecationAnalyzers(std::vector<Analyzer>& out);
void addSchemaAnalyzers(std::vector<Analyzer>& out);

}  // namespace mesh::pilot::analysis
