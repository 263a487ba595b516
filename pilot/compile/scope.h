// Scope: which services and which routing resources one proxy may see. By default a proxy
// sees everything exported to its namespace (exportTo: "*" when absent, "." its own
// namespace, "~" nobody, or namespace names). A Sidecar resource narrows that to its egress
// hosts ("ns/host", with "*" for any namespace or any host, "." for the proxy's namespace and
// "*.suffix" wildcards): this is what keeps a sidecar's config, and its memory, proportional
// to what its workload talks to rather than to the mesh.
//
// Sidecar selection follows Istio: one in the proxy's namespace whose workloadSelector
// matches, else the namespace's Sidecar without selector, else the root namespace's.
#pragma once

#include <string>
#include <vector>

#include "core/config/resource.h"
#include "pilot/compile/mesh_view.h"

namespace mesh::pilot {

class Scope {
 public:
  Scope(const MeshView& view, const std::string& ns, const Labels& labels);
  // A gateway's scope: exportTo to its namespace applies, Sidecar resources do not (Istio
  // scopes only sidecars with them), so a root-namespace Sidecar never hides a service a
  // gateway routes to.
  static Scope forGateway(const std::string& ns);

  // Proxies with the same key see the same services and routing: their outbound config is
  // compiled once and shared.
  const std::string& key() const { return key_; }
  const core::config::Resource* sidecar() const { return sidecar_; }
  const std::string& ns() const { return ns_; }

  bool visible(const Service& service) const;
  // A VirtualService or DestinationRule: exported to this namespace.
  bool exported(const core::config::Resource& r) const;

 private:
  Scope() = default;
  struct EgressHost {
    std::string ns;    // "*" any
    std::string host;  // "*" any, "*.suffix", or a name
  };
  bool egressAllows(const Service& service) const;

  std::string ns_;
  std::string key_;
  const core::config::Resource* sidecar_ = nullptr;
  std::vector<EgressHost> egress_;
};

// Whether a list like exportTo lets namespace `ns` see a resource of namespace `owner`.
bool exportedTo(const std::vector<std::string>& exportTo, const std::string& owner,
                const std::string& ns);
// "*" matches all; "*.example.com" matches names ending in ".example.com"; else equality.
bool hostMatches(const std::string& pattern, const std::string& host);

}  // namespace mesh::pilot
