// Workload analyzers: a Deployment behind several Services that disagree on a port's protocol
// (IST0116) or map one targetPort from different ports (IST0137), and workloads running as
// UID 1337, which the sidecar's traffic capture exempts (IST0144).
#include <map>
#include <set>

#include "pilot/analysis/analyzer.h"
#include "pilot/analysis/codes.h"

namespace mesh::pilot::analysis {

namespace {

std::vector<const ServiceInfo*> servicesSelecting(const Context& ctx, const Workload& w) {
  std::vector<const ServiceInfo*> out;
  for (const ServiceInfo* svc : ctx.servicesIn(w.ns())) {
    if (svc->selector == nullptr || svc->selector->size() == 0) continue;
    if (labelsMatch(*svc->selector, *w.labels)) out.push_back(svc);
  }
  return out;
}

std::string join(const std::set<std::string>& items) {
  return bracketList({items.begin(), items.end()});
}

void checkMultipleServices(Context& ctx) {
  for (const Workload& w : ctx.workloads()) {
    if (w.resource->kind != "Deployment") continue;
    const auto services = servicesSelecting(ctx, w);
    if (services.size() < 2) continue;
    std::map<long long, std::set<std::string>> protocolsByPort;
    std::map<std::string, std::set<long long>> portsByTarget;
    std::map<std::string, std::set<std::string>> servicesByTarget;
    for (const ServiceInfo* svc : services) {
      for (const ServicePort& p : svc->ports) {
        protocolsByPort[p.number].insert(p.protocol);
        portsByTarget[p.targetPort].insert(p.number);
        servicesByTarget[p.targetPort].insert(svc->resource->name);
      }
    }
    const std::string& name = w.resource->name;
    for (const auto& [port, protocols] : protocolsByPort) {
      if (protocols.size() < 2) continue;
      ctx.report(codes::kDeploymentAssociatedToMultipleServices, *w.resource, nullptr,
                 "This deployment " + name + " is associated with multiple services using " +
                     "port " + std::to_string(port) + " but different protocols: " +
                     join(protocols));
    }
    for (const auto& [target, ports] : portsByTarget) {
      if (ports.size() < 2) continue;
      std::set<std::string> portNames;
      for (long long p : ports) portNames.insert(std::to_string(p));
      ctx.report(codes::kDeploymentConflictingPorts, *w.resource, nullptr,
                 "This deployment " + name + " is associated with multiple services " +
                     join(servicesByTarget[target]) + " using targetPort " + quote(target) +
                     " but different ports: " + join(portNames) + ".");
    }
  }
}

void checkApplicationUid(Context& ctx) {
  auto check = [&](const Workload& w, const Value& securityContext) {
    long long uid = 0;
    const Value& field = securityContext["runAsUser"];
    if (!field.asInt(uid) || uid != 1337) return;
    ctx.report(codes::kInvalidApplicationUID, *w.resource, &field,
               "User ID (UID) 1337 is reserved for the sidecar proxy.");
  };
  for (const Workload& w : ctx.workloads()) {
    check(w, (*w.podSpec)["securityContext"]);
    for (const Value& c : (*w.podSpec)["containers"].items()) {
      if (c.str("name") != "istio-proxy") check(w, c["securityContext"]);
    }
  }
}

}  // namespace

void addDeploymentAnalyzers(std::vector<Analyzer>& out) {
  out.push_back({"deployment.MultiServiceAnalyzer",
                 "Checks the Services selecting one Deployment agree on ports and protocols",
                 {&codes::kDeploymentAssociatedToMultipleServices,
                  &codes::kDeploymentConflictingPorts},
                 checkMultipleServices});
  out.push_back({"applicationUID.Analyzer",
                 "Checks no workload runs as UID 1337, which is reserved for the sidecar",
                 {&codes::kInvalidApplicationUID}, checkApplicationUid});
}

}  // namespace mesh::pilot::analysis
