// Which ports the ingress gateway of `mesh up` must serve: those of the Gateway resources
// whose selector matches its labels (istio=ingressgateway, as in Istio's samples).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/config/resource.h"

namespace mesh::cmd::up {

// The server port numbers of the Gateways that select `labels`, in file order, each once.
// A Gateway without a selector selects nothing; malformed fields are skipped.
std::vector<std::uint32_t> gatewayPorts(const std::vector<core::config::Resource>& resources,
                                        const std::map<std::string, std::string>& labels);

}  // namespace mesh::cmd::up
