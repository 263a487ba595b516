// VirtualService HTTPRoute -> proxy Route (core/model/route.h). Destinations become Istio
// cluster names ("outbound|9080|v1|reviews.default.svc.cluster.local"); a destination whose
// cluster the proxy will not have (unknown host or subset, or not visible to it) is dropped,
// and a route left with none answers 503, as Envoy does for a missing cluster.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/model/route.h"

namespace mesh::pilot {

struct RouteContext {
  std::string vsNamespace;
  std::uint32_t port = 0;  // the service port this virtual host serves
  // Qualifies a host written in the VirtualService.
  std::function<std::string(const std::string& host)> qualify;
  // The default port of a destination host when the route names none (0: unknown).
  std::function<std::uint32_t(const std::string& host)> defaultPort;
  // Whether the snapshot has this cluster.
  std::function<bool(const std::string& cluster)> hasCluster;
};

std::string clusterName(std::uint32_t port, const std::string& subset, const std::string& host);

// Whether this HTTPRoute applies on `port` (a match naming another port excludes it).
bool routeAppliesToPort(const nlohmann::json& httpRoute, std::uint32_t port);

core::model::Route convertHttpRoute(const nlohmann::json& httpRoute, const RouteContext& context);

}  // namespace mesh::pilot
