#include "proxy/inbound/inbound_routes.h"

namespace mesh::proxy {

core::model::RouteTable inboundRouteTable(const std::string& cluster) {
  core::model::Route route;
  route.name = "inbound";
  core::model::WeightedCluster destination;
  destination.cluster = cluster;
  route.route.push_back(std::move(destination));
  core::model::Retries retries;
  retries.attempts = 0;
  route.retries = retries;
  core::model::VirtualHost host;
  host.name = "inbound|*";
  host.domains = {"*"};
  host.routes.push_back(std::move(route));
  core::model::RouteTable table;
  table.name = cluster;
  table.virtualHosts.push_back(std::move(host));
  return table;
}

}  // namespace mesh::proxy
