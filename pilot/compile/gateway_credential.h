// A Gateway server's credentialName: the Kubernetes Secret that holds its certificate, read
// as Istio's ingress gateway reads it. The Secret must be in the gateway workload's
// namespace. A TLS Secret (kubernetes.io/tls) gives tls.crt, tls.key and ca.crt; a generic
// one cert, key and cacert. A MUTUAL server whose Secret holds no CA takes it from the
// Secret "<credentialName>-cacert", as Istio does.
#pragma once

#include <optional>
#include <string>

#include "pilot/compile/mesh_view.h"

namespace mesh::pilot {

struct GatewayCredential {
  std::string certificate;     // PEM chain
  std::string key;             // PEM private key
  std::string caCertificates;  // PEM, empty when the Secrets hold none
};

// nullopt when there is no such Secret or it holds no certificate and key.
std::optional<GatewayCredential> findGatewayCredential(const MeshView& view, const std::string& ns,
                                                       const std::string& name);

}  // namespace mesh::pilot
