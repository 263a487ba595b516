// Kubernetes Service analyzers: port names that do not declare a protocol (IST0118), and
// ExternalName services whose ports would be treated as plain TCP (IST0150).
#include "pilot/analysis/analyzer.h"
#include "pilot/analysis/codes.h"
#include "pilot/analysis/protocol.h"

namespace mesh::pilot::analysis {

namespace {

bool systemNamespace(const std::string& ns) {
  return ns == "kube-system" || ns == "kube-public" || ns == "kube-node-lease" ||
         ns == "local-path-storage";
}

void checkPortNames(Context& ctx) {
  for (const ServiceInfo& svc : ctx.services()) {
    if (svc.fromServiceEntry || systemNamespace(svc.ns)) continue;
    if (svc.resource->spec().str("type") == "ExternalName") continue;
    for (const ServicePort& p : svc.ports) {
      if (!p.appProtocol.empty() || p.protocol == "UDP") continue;
      if (!protocolFromPortName(p.name).empty()) continue;
      ctx.report(codes::kPortNameIsNotUnderNamingConvention, *svc.resource, p.field,
                 "Port name " + p.name + " (port: " + std::to_string(p.number) +
                     ", targetPort: " + p.targetPort +
                     ") doesn't follow the naming convention of Istio port.");
    }
  }
}

void checkExternalNamePorts(Context& ctx) {
  for (const ServiceInfo& svc : ctx.services()) {
    if (svc.fromServiceEntry || svc.resource->spec().str("type") != "ExternalName") continue;
    for (const ServicePort& p : svc.ports) {
      const std::string proto = protocolFromPortName(p.name);
      if (!p.appProtocol.empty() || (!proto.empty() && proto != "TCP")) continue;
      ctx.report(codes::kExternalNameServiceTypeInvalidPortName, *svc.resource, p.field,
                 "Port name for ExternalName service is invalid. Proxy may prevent tcp named " +
                     std::string("ports and unmatched traffic for ports serving TCP protocol ") +
                     "from being forwarded correctly");
    }
  }
}

}  // namespace

void addServiceAnalyzers(std::vector<Analyzer>& out) {
  out.push_back({"service.PortNameAnalyzer",
                 "Checks Service port names follow Istio's <protocol>[-<suffix>] convention",
                 {&codes::kPortNameIsNotUnderNamingConvention}, checkPortNames});
  out.push_back({"service.ExternalNameAnalyzer",
                 "Checks ExternalName Service ports name a protocol other than plain TCP",
                 {&codes::kExternalNameServiceTypeInvalidPortName}, checkExternalNamePorts});
}

}  // namespace mesh::pilot::analysis
