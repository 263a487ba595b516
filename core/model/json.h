// JSON conversions of the proxy model (core/model/*.h), for nlohmann/json. Pilot uses them
// to build snapshots piece by piece; parseSnapshot()/toJson() in snapshot.h are the usual
// entry points.
#pragma once

#include <nlohmann/json.hpp>

#include "core/model/cluster.h"
#include "core/model/json_optional.h"
#include "core/model/listener.h"
#include "core/model/route.h"

namespace mesh::core::model {

void to_json(nlohmann::json& j, StringMatch::Kind v);
void from_json(const nlohmann::json& j, StringMatch::Kind& v);
void to_json(nlohmann::json& j, LoadBalancer::Policy v);
void from_json(const nlohmann::json& j, LoadBalancer::Policy& v);
void to_json(nlohmann::json& j, UpstreamTls::Mode v);
void from_json(const nlohmann::json& j, UpstreamTls::Mode& v);
void to_json(nlohmann::json& j, ServerTls::Mode v);
void from_json(const nlohmann::json& j, ServerTls::Mode& v);
void to_json(nlohmann::json& j, MtlsMode v);
void from_json(const nlohmann::json& j, MtlsMode& v);
void to_json(nlohmann::json& j, Listener::Direction v);
void from_json(const nlohmann::json& j, Listener::Direction& v);
void to_json(nlohmann::json& j, const StringMatch& v);
void from_json(const nlohmann::json& j, StringMatch& v);
void to_json(nlohmann::json& j, const RouteMatch& v);
void from_json(const nlohmann::json& j, RouteMatch& v);
void to_json(nlohmann::json& j, const HeaderOperations& v);
void from_json(const nlohmann::json& j, HeaderOperations& v);
void to_json(nlohmann::json& j, const Headers& v);
void from_json(const nlohmann::json& j, Headers& v);
void to_json(nlohmann::json& j, const WeightedCluster& v);
void from_json(const nlohmann::json& j, WeightedCluster& v);
void to_json(nlohmann::json& j, const Redirect& v);
void from_json(const nlohmann::json& j, Redirect& v);
void to_json(nlohmann::json& j, const DirectResponse& v);
void from_json(const nlohmann::json& j, DirectResponse& v);
void to_json(nlohmann::json& j, const Rewrite& v);
void from_json(const nlohmann::json& j, Rewrite& v);
void to_json(nlohmann::json& j, const Retries& v);
void from_json(const nlohmann::json& j, Retries& v);
void to_json(nlohmann::json& j, const Fault& v);
void from_json(const nlohmann::json& j, Fault& v);
void to_json(nlohmann::json& j, const Mirror& v);
void from_json(const nlohmann::json& j, Mirror& v);
void to_json(nlohmann::json& j, const Cors& v);
void from_json(const nlohmann::json& j, Cors& v);
void to_json(nlohmann::json& j, const Route& v);
void from_json(const nlohmann::json& j, Route& v);
void to_json(nlohmann::json& j, const VirtualHost& v);
void from_json(const nlohmann::json& j, VirtualHost& v);
void to_json(nlohmann::json& j, const RouteTable& v);
void from_json(const nlohmann::json& j, RouteTable& v);
void to_json(nlohmann::json& j, const Endpoint& v);
void from_json(const nlohmann::json& j, Endpoint& v);
void to_json(nlohmann::json& j, const LoadBalancer& v);
void from_json(const nlohmann::json& j, LoadBalancer& v);
void to_json(nlohmann::json& j, const ConnectionPool& v);
void from_json(const nlohmann::json& j, ConnectionPool& v);
void to_json(nlohmann::json& j, const OutlierDetection& v);
void from_json(const nlohmann::json& j, OutlierDetection& v);
void to_json(nlohmann::json& j, const UpstreamTls& v);
void from_json(const nlohmann::json& j, UpstreamTls& v);
void to_json(nlohmann::json& j, const Cluster& v);
void from_json(const nlohmann::json& j, Cluster& v);
void to_json(nlohmann::json& j, const InboundPort& v);
void from_json(const nlohmann::json& j, InboundPort& v);
void to_json(nlohmann::json& j, const ServerTls& v);
void from_json(const nlohmann::json& j, ServerTls& v);
void to_json(nlohmann::json& j, const SniCertificate& v);
void from_json(const nlohmann::json& j, SniCertificate& v);
void to_json(nlohmann::json& j, const Listener& v);
void from_json(const nlohmann::json& j, Listener& v);

}  // namespace mesh::core::model
