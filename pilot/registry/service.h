// The service registry's model: services (from Kubernetes Services and ServiceEntries) and
// workloads (from WorkloadEntries and from proxies that connected and said hello), joined by
// label selectors into endpoints. Everything here is a plain value; a ServiceIndex is built
// whole for each push round and shared read-only.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mesh::pilot {

using Labels = std::map<std::string, std::string>;

// Whether every pair of `selector` is in `labels` (an empty selector matches everything).
bool selectorMatches(const Labels& selector, const Labels& labels);

struct ServicePort {
  std::uint32_t number = 0;
  std::string name;
  std::string protocol = "tcp";  // "http" or "tcp", from protocol / appProtocol / name prefix
  std::uint32_t targetPort = 0;  // the workload's port; 0: same as number
};

// An instance of a workload: a pod (a connected proxy), a VM (WorkloadEntry) or an endpoint
// written in a ServiceEntry.
struct Workload {
  std::string name;  // node id or WorkloadEntry name
  std::string ns;
  std::string serviceAccount;
  std::string identity;  // SPIFFE id; empty for endpoints outside the mesh
  Labels labels;
  std::string address;
  std::vector<std::uint32_t> ports;           // ports the app listens on (hello)
  std::map<std::string, std::uint32_t> namedPorts;  // WorkloadEntry/ServiceEntry endpoint ports
  std::uint32_t sidecarPort = 0;  // its proxy's inbound port; 0 when it has none
  std::uint32_t weight = 1;
  bool fromProxy = false;
};

struct Service {
  std::string host;  // FQDN: reviews.default.svc.cluster.local, or a ServiceEntry host
  std::string name;  // the resource's name
  std::string ns;
  std::string kind;  // "Service" or "ServiceEntry"
  std::vector<ServicePort> ports;
  Labels selector;
  bool hasSelector = false;  // a Service without selector or a ServiceEntry without one
  std::vector<std::string> exportTo;  // empty: "*"
  std::vector<std::string> addresses;
  bool meshExternal = false;
  std::string resolution = "STATIC";  // ServiceEntry's NONE | STATIC | DNS
  std::vector<Workload> inlineEndpoints;  // ServiceEntry endpoints

  const ServicePort* findPort(std::uint32_t number) const;
};

// Istio's port protocol selection: explicit protocol/appProtocol first, then the name prefix
// ("http-web", "grpc", "tcp-db"); anything unknown is TCP.
std::string portProtocol(const std::string& protocol, const std::string& appProtocol,
                         const std::string& name);

}  // namespace mesh::pilot
