// VirtualService HTTPRoutes -> proxy Routes (core/model/route.h), for the sidecars' outbound
// table and for gateway listeners alike: both only differ in the port requests arrive on and
// in which `gateways` entry selects them ("mesh", or a Gateway's "ns/name"). Destinations
// become Istio cluster names ("outbound|9080|v1|reviews.default.svc.cluster.local"); a
// destination whose cluster the proxy will not have (unknown host or subset, or not visible
// to it) is dropped, and a route left with none answers 503, as Envoy does for a missing
// cluster.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model/route.h"

namespace mesh::pilot {

struct RouteContext {
  std::string vsNamespace;
  std::string virtualService;  // "name.namespace", which the routes carry for proxy-config
  std::uint32_t port = 0;  // the port requests arrive on: matches naming another are skipped
  // The destination port when a Destination names none and its host has several (0: none).
  std::uint32_t fallbackPort = 0;
  // Who the routes are for: "mesh" (sidecars) or a Gateway as "ns/name". A match whose
  // `gateways` list does not name it is skipped.
  std::string gateway = "mesh";
  // Qualifies a host written in the VirtualService.
  std::function<std::string(const std::string& host)> qualify;
  // The default port of a destination host when the route names none (0: unknown).
  std::function<std::uint32_t(const std::string& host)> defaultPort;
  // Whether the snapshot has this cluster.
  std::function<bool(const std::string& cluster)> hasCluster;
};

std::string clusterName(std::uint32_t port, const std::string& subset, const std::string& host);

// The cluster of a Destination ({host, subset, port}), or "" when the snapshot will not have it.
std::string destinationCluster(const nlohmann::json& destination, const RouteContext& context);

// Whether an entry of a VirtualService's (or a match's) `gateways` list, written in namespace
// `vsNamespace` ("mesh", "name" or "ns/name"), names `gateway` ("mesh" or "ns/name").
bool namesGateway(const std::string& entry, const std::string& vsNamespace,
                  const std::string& gateway);

// The routes of a VirtualService spec's `http` list for this context, in order. A route
// whose matches all name another port or another gateway is left out; matches are kept only
// when they apply.
std::vector<core::model::Route> convertHttpRoutes(const nlohmann::json& vsSpec,
                                                  const RouteContext& context);

}  // namespace mesh::pilot
