// What every analyzer works from: the resources indexed by kind and name, the service
// registry they imply (Kubernetes Services and ServiceEntry hosts by FQDN), the workloads
// (Pods and the pod templates of Deployments and the other workload kinds), and the sink the
// analyzers report messages into. The Context borrows the resources; they must outlive it.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/config/resource.h"
#include "pilot/analysis/message.h"
#include "pilot/analysis/resource.h"

namespace mesh::pilot::analysis {

struct Settings {
  std::string rootNamespace = "istio-system";  // MeshConfig rootNamespace
  std::string domainSuffix = "cluster.local";
  bool includeAlpha = false;                   // report IST0136 (not in istioctl's default set)
};

struct ServicePort {
  long long number = 0;
  std::string name;
  std::string protocol;    // Kubernetes protocol (TCP/UDP/SCTP) or ServiceEntry protocol
  std::string targetPort;  // as written; the port number when absent
  std::string appProtocol;
  const Value* field = nullptr;
};

struct ServiceInfo {
  std::string fqdn;  // "reviews.default.svc.cluster.local" or the ServiceEntry host
  std::string ns;
  const Resource* resource = nullptr;
  bool fromServiceEntry = false;
  std::vector<ServicePort> ports;
  const Value* selector = nullptr;  // Kubernetes Service spec.selector
};

struct Workload {
  const Resource* resource = nullptr;  // the Pod, or the Deployment etc. owning the template
  bool isPod = false;
  const Value* labels = nullptr;
  const Value* annotations = nullptr;
  const Value* podSpec = nullptr;
  const std::string& ns() const { return resource->ns; }
};

// True if every key of `selector` (a string map) has the same value in `labels`.
// An empty selector selects everything.
bool labelsMatch(const Value& selector, const Value& labels);
// Istio's host matching: "*" and "*.example.com" cover the names under them; either side
// may be the wildcard.
bool hostsOverlap(std::string_view a, std::string_view b);

class Context {
 public:
  Context(const std::vector<Resource>& resources, Settings settings);

  const Settings& settings() const { return settings_; }
  const std::vector<const Resource*>& ofKind(std::string_view kind) const;
  const std::unordered_map<std::string, std::vector<const Resource*>>& allByKind() const {
    return byKind_;
  }
  const Resource* find(std::string_view kind, std::string_view ns, std::string_view name) const;

  // "reviews" in namespace "default" -> "reviews.default.svc.cluster.local"; names with a
  // dot but not ending in the suffix get ".svc.<suffix>" when they read "name.namespace".
  std::string fqdn(std::string_view host, std::string_view ns) const;
  const ServiceInfo* service(std::string_view fqdn) const;
  // The registry entry for `fqdn`, also through ServiceEntry wildcards; nullptr if none.
  const ServiceInfo* lookupHost(std::string_view fqdn) const;
  const std::vector<ServiceInfo>& services() const { return services_; }
  // Kubernetes Services (not ServiceEntries) of namespace `ns`.
  std::vector<const ServiceInfo*> servicesIn(std::string_view ns) const;
  // DestinationRules whose host resolves (in the rule's namespace) to `fqdn`.
  const std::vector<const Resource*>& destinationRulesFor(std::string_view fqdn) const;

  const std::vector<Workload>& workloads() const { return workloads_; }
  std::vector<const Workload*> workloadsIn(std::string_view ns) const;
  // Workloads in `ns` (every namespace if empty) whose labels `selector` matches.
  std::vector<const Workload*> selectWorkloads(const Value& selector, std::string_view ns) const;

  // The namespace's labels, or a null Value when no Namespace resource describes it.
  const Value& namespaceLabels(std::string_view ns) const;
  // True when the sidecar injector would inject pods of `ns` (label or webhook default).
  bool namespaceInjected(std::string_view ns) const;
  // True when an injector webhook in the input selects namespaces that have no label.
  bool injectionEnabledByDefault() const { return injectionByDefault_; }

  void report(const MessageType& type, const Resource& resource, const Value* field,
              std::string text);
  void reportAt(const MessageType& type, const Resource& resource, int line, std::string text);

  // What core/config's validation found in the same input (for IST0106).
  void setSchemaErrors(std::vector<core::config::ConfigError> errors) {
    schemaErrors_ = std::move(errors);
  }
  const std::vector<core::config::ConfigError>& schemaErrors() const { return schemaErrors_; }
  std::vector<Message>& messages() { return messages_; }

 private:
  void indexServices();
  void indexWorkloads();
  void detectInjectionDefault();

  Settings settings_;
  std::vector<const Resource*> empty_;
  std::unordered_map<std::string, std::vector<const Resource*>> byKind_;
  std::unordered_map<std::string, const Resource*> byKey_;
  std::vector<ServiceInfo> services_;
  std::unordered_map<std::string, size_t> serviceIndex_;
  std::vector<size_t> wildcardServices_;
  std::unordered_map<std::string, std::vector<size_t>> servicesByNs_;
  std::unordered_map<std::string, std::vector<const Resource*>> rulesByHost_;
  std::vector<Workload> workloads_;
  std::unordered_map<std::string, std::vector<size_t>> workloadsByNs_;
  bool injectionByDefault_ = false;
  std::vector<core::config::ConfigError> schemaErrors_;
  std::vector<Message> messages_;
};

// Text helpers shared by the analyzers' messages.
std::string quote(std::string_view s);  // Go's %q for plain ASCII: "\"reviews\""
std::string bracketList(const std::vector<std::string>& items);  // Go's %v: "[a b c]"

}  // namespace mesh::pilot::analysis
