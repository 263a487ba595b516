// MeshView: everything one push round compiles from, indexed once and then read by every
// proxy's compilation: the ConfigSet (resources by kind), the ServiceIndex and the mesh-wide
// settings. Immutable; the round holds it by shared_ptr.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/config/resource.h"
#include "pilot/registry/service.h"
#include "pilot/registry/service_index.h"
#include "pilot/source/config_set.h"

namespace mesh::pilot {

// Mesh-wide settings (Istio's MeshConfig, the parts pilot uses).
struct MeshSettings {
  std::string rootNamespace = "istio-system";  // mesh-wide PeerAuthentication, Sidecar...
  std::string trustDomain = "cluster.local";
  std::string domainSuffix = "cluster.local";
  std::string outboundTrafficPolicy = "ALLOW_ANY";
  std::uint32_t outboundCapturePort = 15001;
  std::uint32_t inboundCapturePort = 15006;
};

// What a proxy said in its hello, after its identity was checked against its certificate.
struct ProxyInfo {
  std::string node;
  std::string ns;
  std::string serviceAccount;
  std::string identity;
  Labels labels;
  std::string address;
  std::vector<std::uint32_t> ports;
  std::uint32_t sidecarPort = 0;
  // A gateway (Istio's "router" proxy): Gateway resources selecting its labels give its
  // listeners, bound on gatewayAddress; it has no inbound or capture listener.
  bool gateway = false;
  std::string gatewayAddress = "0.0.0.0";
};

class MeshView {
 public:
  MeshView(ConfigSetPtr config, std::shared_ptr<const ServiceIndex> services,
           MeshSettings settings);

  const std::vector<const core::config::Resource*>& ofKind(const std::string& kind) const;
  const ServiceIndex& services() const { return *services_; }
  const MeshSettings& settings() const { return settings_; }
  const ConfigSet& config() const { return *config_; }

 private:
  ConfigSetPtr config_;
  std::shared_ptr<const ServiceIndex> services_;
  MeshSettings settings_;
  std::map<std::string, std::vector<const core::config::Resource*>> byKind_;
};

}  // namespace mesh::pilot
