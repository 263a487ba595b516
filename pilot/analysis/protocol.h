// Istio's protocol names and its port naming convention (<protocol>[-<suffix>]), shared by
// the Service, ServiceEntry and Deployment analyzers.
#pragma once

#include <string>
#include <string_view>

namespace mesh::pilot::analysis {

// The protocol a port name declares ("http-web" -> "HTTP", "grpc" -> "GRPC"); "" if none.
std::string protocolFromPortName(std::string_view name);
// Istio's TCP-level protocols, for which a ServiceEntry needs addresses.
bool isTcpLevel(std::string_view protocol);

}  // namespace mesh::pilot::analysis
