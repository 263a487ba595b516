// ServiceIndex: every service of the mesh with its endpoints, built from the resources of a
// ConfigSet and the workloads of connected proxies. Immutable once built; push rounds share it.
//
// Where endpoints come from: a Kubernetes Service or a ServiceEntry with a selector selects
// the WorkloadEntries and the connected proxies of its namespace whose labels match; a
// ServiceEntry's own `endpoints` are used as they are.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/config/resource.h"
#include "core/model/cluster.h"
#include "pilot/registry/service.h"

namespace mesh::pilot {

struct RegistryOptions {
  std::string trustDomain = "cluster.local";
  std::string domainSuffix = "cluster.local";
};

class ServiceIndex {
 public:
  ServiceIndex() = default;
  ServiceIndex(const std::vector<core::config::Resource>& resources,
               const std::vector<Workload>& proxies, const RegistryOptions& options);

  // Sorted by host (then namespace).
  const std::vector<Service>& services() const { return services_; }
  const std::vector<Workload>& workloads() const { return workloads_; }
  // The service named `host` as seen from namespace `fromNs`: its own namespace's first.
  const Service* find(const std::string& host) const;
  // The endpoints of one service port, as the proxy model wants them.
  std::vector<core::model::Endpoint> endpoints(const Service& service,
                                               const ServicePort& port) const;
  // Full host name for a name written in namespace `ns` ("reviews" -> reviews.ns.svc.<suffix>).
  std::string qualify(const std::string& host, const std::string& ns) const;

 private:
  void addService(const core::config::Resource& r);
  void addServiceEntry(const core::config::Resource& r);
  void addWorkloadEntry(const core::config::Resource& r);

  RegistryOptions options_;
  std::vector<Service> services_;
  std::vector<Workload> workloads_;  // WorkloadEntries and proxies
  std::multimap<std::string, std::size_t> byHost_;
  // Workloads by namespace and by (namespace, label, value): selecting a service's endpoints
  // looks at the workloads that have its first selector label, not at all of them.
  std::map<std::string, std::vector<std::size_t>> byNamespace_;
  std::map<std::string, std::vector<std::size_t>> byLabel_;
};

}  // namespace mesh::pilot
