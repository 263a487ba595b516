// JSON form of the proxy model. Field names are the struct members' names, which follow
// Istio's own camelCase field names; enums are written as Istio writes them (ROUND_ROBIN,
// STRICT, ...). Missing fields take the struct's defaults.
#include <stdexcept>

#include "core/model/json.h"

namespace mesh::core::model {

namespace {

// Enum <-> string tables; an unknown string is an error, never a silent default.
template <typename E, size_t N>
void enumToJson(nlohmann::json& j, E value, const std::pair<E, const char*> (&names)[N]) {
  for (const auto& [e, name] : names) {
    if (e == value) {
      j = name;
      return;
    }
  }
  j = nullptr;
}

template <typename E, size_t N>
void enumFromJson(const nlohmann::json& j, E& value, const std::pair<E, const char*> (&names)[N]) {
  const auto& text = j.get_ref<const std::string&>();
  for (const auto& [e, name] : names) {
    if (text == name) {
      value = e;
      return;
    }
  }
  throw std::invalid_argument("unknown value \"" + text + "\"");
}

}  // namespace

#define MESH_JSON_ENUM(Type, ...)                                                        \
  constexpr std::pair<Type, const char*> k##Type##Names[] = {__VA_ARGS__};               \
  void to_json(nlohmann::json& j, Type v) { enumToJson(j, v, k##Type##Names); }          \
  void from_json(const nlohmann::json& j, Type& v) { enumFromJson(j, v, k##Type##Names); }

using StringMatchKind = StringMatch::Kind;
using LbPolicy = LoadBalancer::Policy;
using UpstreamTlsMode = UpstreamTls::Mode;
using ServerTlsMode = ServerTls::Mode;
using ListenerDirection = Listener::Direction;

MESH_JSON_ENUM(StringMatchKind, {StringMatchKind::exact, "exact"},
               {StringMatchKind::prefix, "prefix"}, {StringMatchKind::regex, "regex"})
MESH_JSON_ENUM(LbPolicy, {LbPolicy::round_robin, "ROUND_ROBIN"},
               {LbPolicy::least_request, "LEAST_REQUEST"}, {LbPolicy::random, "RANDOM"},
               {LbPolicy::passthrough, "PASSTHROUGH"}, {LbPolicy::ring_hash, "RING_HASH"})
MESH_JSON_ENUM(UpstreamTlsMode, {UpstreamTlsMode::disable, "DISABLE"},
               {UpstreamTlsMode::simple, "SIMPLE"}, {UpstreamTlsMode::mutual, "MUTUAL"},
               {UpstreamTlsMode::istio_mutual, "ISTIO_MUTUAL"})
MESH_JSON_ENUM(ServerTlsMode, {ServerTlsMode::passthrough, "PASSTHROUGH"},
               {ServerTlsMode::simple, "SIMPLE"}, {ServerTlsMode::mutual, "MUTUAL"},
               {ServerTlsMode::istio_mutual, "ISTIO_MUTUAL"})
MESH_JSON_ENUM(MtlsMode, {MtlsMode::strict, "STRICT"}, {MtlsMode::permissive, "PERMISSIVE"},
               {MtlsMode::disable, "DISABLE"})
MESH_JSON_ENUM(ListenerDirection, {ListenerDirection::outbound, "OUTBOUND"},
               {ListenerDirection::inbound, "INBOUND"}, {ListenerDirection::gateway, "GATEWAY"})

// Like nlohmann's NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT, but not inline: the
// functions are declared in json.h and compiled once, here.
#define MESH_JSON(Type, ...)                                                             \
  void to_json(nlohmann::json& nlohmann_json_j, const Type& nlohmann_json_t) {           \
    NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(NLOHMANN_JSON_TO, __VA_ARGS__))             \
  }                                                                                      \
  void from_json(const nlohmann::json& nlohmann_json_j, Type& nlohmann_json_t) {         \
    const Type nlohmann_json_default_obj{};                                              \
    NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(NLOHMANN_JSON_FROM_WITH_DEFAULT, __VA_ARGS__)) \
  }

MESH_JSON(StringMatch, kind, value)
MESH_JSON(RouteMatch, name, uri, scheme, method, authority, headers, withoutHeaders, queryParams,
          port, sourceLabels, sourceNamespace, ignoreUriCase)
MESH_JSON(HeaderOperations, set, add, remove)
MESH_JSON(Headers, request, response)
MESH_JSON(WeightedCluster, cluster, weight, headers)
MESH_JSON(Redirect, uri, authority, port, derivePort, scheme, code)
MESH_JSON(DirectResponse, status, body)
MESH_JSON(Rewrite, uri, authority, uriRegex, uriRegexRewrite)
MESH_JSON(Retries, attempts, perTryTimeoutMs, retryOn)
MESH_JSON(Fault, delayMs, delayPercent, abortStatus, abortPercent)
MESH_JSON(Mirror, cluster, percent)
MESH_JSON(Cors, allowOrigins, allowMethods, allowHeaders, exposeHeaders, maxAgeSeconds,
          allowCredentials)
MESH_JSON(Route, name, virtualService, match, route, redirect, directResponse, rewrite, timeoutMs, retries, fault,
          mirror, cors, headers)
MESH_JSON(VirtualHost, name, domains, routes)
MESH_JSON(RouteTable, name, virtualHosts)

MESH_JSON(Endpoint, address, port, weight, labels, identity, sidecarPort)
MESH_JSON(LoadBalancer, policy, hashHeader, hashCookie, hashSourceIp, hashQueryParameter)
MESH_JSON(ConnectionPool, maxConnections, connectTimeoutMs, maxPendingRequests,
          maxRequestsPerConnection, maxRetries, idleTimeoutMs)
MESH_JSON(OutlierDetection, consecutive5xxErrors, consecutiveGatewayErrors, intervalMs,
          baseEjectionTimeMs, maxEjectionPercent)
MESH_JSON(UpstreamTls, mode, sni, identities, caCertificates, clientCertificate, privateKey)
MESH_JSON(Cluster, name, service, port, subset, loadBalancer, pool, outlier, tls, protocol,
          endpoints, destinationRule)

MESH_JSON(InboundPort, port, protocol, cluster, mtls)
MESH_JSON(ServerTls, mode, credentialName, serverCertificate, privateKey, caCertificates,
          serverCertificatePem, privateKeyPem, caCertificatesPem, httpsRedirect)
MESH_JSON(SniCertificate, hosts, serverCertificate, privateKey, serverCertificatePem,
          privateKeyPem)
MESH_JSON(SniRoute, sniHosts, cluster)
MESH_JSON(Listener, name, address, port, direction, protocol, routeTable, cluster, capture,
          inboundPorts, defaultMtls, hasTls, tls, sniCertificates, hosts, sniRoutes)

}  // namespace mesh::core::model
