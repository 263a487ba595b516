// Shapes of networking.istio.io kinds: VirtualService, DestinationRule, Gateway,
// ServiceEntry, WorkloadEntry, Sidecar. Field names and enums follow Istio's API reference;
// fields mesh does not act on are still listed, so valid Istio YAML is never refused.
#include <algorithm>
#include <cctype>
#include <set>

#include "core/config/kinds.h"

namespace mesh::core::config::detail {
namespace {

using namespace schema;

constexpr std::int64_t kUint32Max = 4294967295LL;
Check count() { return integer(0, INT32_MAX); }

// Protocol names as Istio accepts them on ports (case-insensitive, like Istio's parser).
Check protocol() {
  return [](Context& c, const json& v, const FieldPath& p) {
    static const std::set<std::string> kProtocols = {
        "HTTP", "HTTPS", "GRPC",  "GRPC-WEB", "HTTP2", "HTTP_PROXY", "MONGO",
        "MYSQL", "REDIS", "TCP", "TLS",      "UDP",   "THRIFT"};
    std::string upper = v.is_string() ? v.get<std::string>() : std::string();
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char ch) { return std::toupper(ch); });
    if (!kProtocols.count(upper)) {
      c.error(p, "must be a protocol: HTTP, HTTPS, GRPC, GRPC-WEB, HTTP2, MONGO, TCP, TLS, UDP...");
    }
  };
}

// Names of list entries (subsets, servers...) must be unique where Istio requires it.
Check uniqueField(std::string_view field, std::string what) {
  return [field, what](Context& c, const json& v, const FieldPath& p) {
    if (!v.is_array()) return;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_object() || !v[i].contains(field) || !v[i][field].is_string()) continue;
      const auto& name = v[i][field].get_ref<const std::string&>();
      if (!seen.insert(name).second) {
        c.error(p.index(i).field(field), "duplicate " + what + " \"" + name + "\"");
      }
    }
  };
}

// When more than one destination of a route carries a weight, the weights share the
// traffic and must add up to 100.
Check weightedRoutes(Check destination) {
  Check sum = [](Context& c, const json& v, const FieldPath& p) {
    if (!v.is_array()) return;
    int weighted = 0;
    std::int64_t total = 0;
    for (const json& d : v) {
      if (!d.is_object() || !d.contains("weight") || !d["weight"].is_number_integer()) continue;
      ++weighted;
      total += d["weight"].get<std::int64_t>();
    }
    if (weighted > 1 && total != 100) {
      c.error(p, "weights must add up to 100, not " + std::to_string(total));
    }
  };
  return allOf({listOf(std::move(destination)), std::move(sum)});
}

const Check& percent() {
  static const Check check = object({{"value", number(0, 100)}});
  return check;
}

const Check& portSelector() {
  static const Check check = object({{"number", port()}});
  return check;
}

const Check& destination() {
  static const Check check = object({
      {"host", nonEmptyString(), kRequired},
      {"subset", string()},
      {"port", portSelector()},
  });
  return check;
}

const Check& headers() {
  static const Check operations =
      object({{"set", stringMap()}, {"add", stringMap()}, {"remove", stringList()}});
  static const Check check = object({{"request", operations}, {"response", operations}});
  return check;
}

// In headers, withoutHeaders and queryParams an empty match ({}) tests presence, as in Istio.
const Check& presenceOrMatch() {
  static const Check check = object(
      {{"exact", string()}, {"prefix", string()}, {"regex", regex()}},
      {atMostOneOf({"exact", "prefix", "regex"})});
  return check;
}

const Check& httpMatch() {
  static const Check check = object({
      {"name", string()},
      {"uri", stringMatch()},
      {"scheme", stringMatch()},
      {"method", stringMatch()},
      {"authority", stringMatch()},
      {"headers", mapOf(presenceOrMatch())},
      {"withoutHeaders", mapOf(presenceOrMatch())},
      {"queryParams", mapOf(presenceOrMatch())},
      {"port", port()},
      {"sourceLabels", stringMap()},
      {"sourceNamespace", string()},
      {"gateways", stringList()},
      {"ignoreUriCase", boolean()},
      {"statPrefix", string()},
  });
  return check;
}

const Check& httpRoute() {
  static const Check routeDestination = object({
      {"destination", destination(), kRequired},
      {"weight", integer(0, 100)},
      {"headers", headers()},
  });
  static const Check redirect = object(
      {
          {"uri", string()},
          {"authority", string()},
          {"port", port()},
          {"derivePort", enumOf({"FROM_PROTOCOL_DEFAULT", "FROM_REQUEST_PORT"})},
          {"scheme", string()},
          {"redirectCode", integer(300, 399)},
      },
      {atMostOneOf({"port", "derivePort"})});
  static const Check directResponse = object(
      {
          {"status", integer(200, 599), kRequired},
          {"body", object({{"string", string()}, {"bytes", string()}},
                          {atMostOneOf({"string", "bytes"})})},
      });
  static const Check rewrite = object(
      {
          {"uri", string()},
          {"authority", string()},
          {"uriRegexRewrite", object({{"match", regex()}, {"rewrite", string()}})},
      },
      {atMostOneOf({"uri", "uriRegexRewrite"})});
  static const Check retries = object({
      {"attempts", count()},
      {"perTryTimeout", duration()},
      {"retryOn", string()},
      {"retryRemoteLocalities", boolean()},
  });
  static const Check fault = object({
      {"delay", object(
                    {
                        {"fixedDelay", duration()},
                        {"exponentialDelay", duration()},
                        {"percentage", percent()},
                        {"percent", integer(0, 100)},
                    },
                    {exactlyOneOf({"fixedDelay", "exponentialDelay"})})},
      {"abort", object(
                    {
                        {"httpStatus", integer(200, 599)},
                        {"grpcStatus", string()},
                        {"http2Error", string()},
                        {"percentage", percent()},
                    },
                    {exactlyOneOf({"httpStatus", "grpcStatus", "http2Error"})})},
  });
  static const Check cors = object({
      {"allowOrigins", listOf(stringMatch())},
      {"allowOrigin", stringList()},
      {"allowMethods", stringList()},
      {"allowHeaders", stringList()},
      {"exposeHeaders", stringList()},
      {"maxAge", duration()},
      {"allowCredentials", boolean()},
      {"unmatchedPreflights", enumOf({"UNSPECIFIED", "FORWARD", "IGNORE"})},
  });
  static const Check check = object(
      {
          {"name", string()},
          {"match", listOf(httpMatch())},
          {"route", weightedRoutes(routeDestination)},
          {"redirect", redirect},
          {"directResponse", directResponse},
          {"delegate", object({{"name", nonEmptyString(), kRequired}, {"namespace", string()}})},
          {"rewrite", rewrite},
          {"timeout", duration()},
          {"retries", retries},
          {"fault", fault},
          {"mirror", destination()},
          {"mirrors", listOf(object({{"destination", destination(), kRequired},
                                     {"percentage", percent()}}))},
          {"mirrorPercentage", percent()},
          {"mirrorPercent", integer(0, 100)},
          {"mirror_percent", integer(0, 100)},
          {"corsPolicy", cors},
          {"headers", headers()},
      },
      {oneOrMoreOf({"route", "redirect", "directResponse", "delegate"}),
       atMostOneOf({"route", "redirect", "directResponse", "delegate"})});
  return check;
}

const Check& routeDestination() {
  static const Check check =
      object({{"destination", destination(), kRequired}, {"weight", integer(0, 100)}});
  return check;
}

const Check& tlsRoute() {
  static const Check match = object({
      {"sniHosts", listOf(nonEmptyString(), 1), kRequired},
      {"destinationSubnets", stringList()},
      {"port", port()},
      {"sourceLabels", stringMap()},
      {"gateways", stringList()},
      {"sourceNamespace", string()},
  });
  static const Check check = object({
      {"match", listOf(match, 1), kRequired},
      {"route", weightedRoutes(routeDestination())},
  });
  return check;
}

const Check& tcpRoute() {
  static const Check match = object({
      {"destinationSubnets", stringList()},
      {"port", port()},
      {"sourceLabels", stringMap()},
      {"gateways", stringList()},
      {"sourceNamespace", string()},
      {"sourceSubnet", string()},
  });
  static const Check check = object({
      {"match", listOf(match)},
      {"route", weightedRoutes(routeDestination())},
  });
  return check;
}

const Check& loadBalancer() {
  static const Check consistentHash = object(
      {
          {"httpHeaderName", string()},
          {"httpCookie", object({{"name", nonEmptyString(), kRequired},
                                 {"path", string()},
                                 {"ttl", duration()},
                                 {"attributes", any()}})},
          {"useSourceIp", boolean()},
          {"httpQueryParameterName", string()},
          {"ringHash", object({{"minimumRingSize", integer(0, INT64_MAX)}})},
          {"maglev", object({{"tableSize", integer(0, INT64_MAX)}})},
          {"minimumRingSize", integer(0, INT64_MAX)},
      },
      {exactlyOneOf({"httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName"})});
  static const Check locality = object({
      {"distribute", any()},
      {"failover", any()},
      {"failoverPriority", stringList()},
      {"enabled", boolean()},
  });
  static const Check check = object(
      {
          {"simple", enumOf({"UNSPECIFIED", "LEAST_CONN", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN",
                             "LEAST_REQUEST"})},
          {"consistentHash", consistentHash},
          {"localityLbSetting", locality},
          {"warmupDurationSecs", duration()},
          {"warmup", any()},
      },
      {atMostOneOf({"simple", "consistentHash"})});
  return check;
}

const Check& connectionPool() {
  static const Check tcp = object({
      {"maxConnections", count()},
      {"connectTimeout", duration()},
      {"tcpKeepalive",
       object({{"probes", integer(0, kUint32Max)}, {"time", duration()}, {"interval", duration()}})},
      {"maxConnectionDuration", duration()},
      {"idleTimeout", duration()},
  });
  static const Check http = object({
      {"http1MaxPendingRequests", count()},
      {"http2MaxRequests", count()},
      {"maxRequestsPerConnection", count()},
      {"maxRetries", count()},
      {"idleTimeout", duration()},
      {"h2UpgradePolicy", enumOf({"DEFAULT", "DO_NOT_UPGRADE", "UPGRADE"})},
      {"useClientProtocol", boolean()},
      {"maxConcurrentStreams", count()},
  });
  static const Check check = object({{"tcp", tcp}, {"http", http}});
  return check;
}

const Check& outlierDetection() {
  static const Check check = object({
      {"splitExternalLocalOriginErrors", boolean()},
      {"consecutiveLocalOriginFailures", count()},
      {"consecutiveGatewayErrors", count()},
      {"consecutive5xxErrors", count()},
      {"consecutiveErrors", count()},
      {"interval", duration()},
      {"baseEjectionTime", duration()},
      {"maxEjectionPercent", integer(0, 100)},
      {"minHealthPercent", integer(0, 100)},
  });
  return check;
}

// A certificate-bearing TLS mode needs a certificate from somewhere: a secret
// (credentialName) or files.
Check needsCertificate(std::vector<std::string_view> modes, std::string_view certField) {
  return [modes = std::move(modes), certField](Context& c, const json& v, const FieldPath& p) {
    if (!has(v, "mode") || !v["mode"].is_string()) return;
    const auto& mode = v["mode"].get_ref<const std::string&>();
    if (std::find(modes.begin(), modes.end(), mode) == modes.end()) return;
    if (has(v, "credentialName") || has(v, "credentialNames") || has(v, "tlsCertificates")) return;
    if (has(v, certField) && has(v, "privateKey")) return;
    c.error(p, mode + " TLS needs credentialName, or " + std::string(certField) +
                   " and privateKey");
  };
}

const Check& clientTls() {
  static const Check check = object(
      {
          {"mode", enumOf({"DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"})},
          {"clientCertificate", string()},
          {"privateKey", string()},
          {"caCertificates", string()},
          {"credentialName", string()},
          {"subjectAltNames", stringList()},
          {"sni", string()},
          {"insecureSkipVerify", boolean()},
          {"caCrl", string()},
      },
      {needsCertificate({"MUTUAL"}, "clientCertificate")});
  return check;
}

const Check& trafficPolicy() {
  static const Check portLevel = object({
      {"port", portSelector(), kRequired},
      {"loadBalancer", loadBalancer()},
      {"connectionPool", connectionPool()},
      {"outlierDetection", outlierDetection()},
      {"tls", clientTls()},
  });
  static const Check check = object({
      {"loadBalancer", loadBalancer()},
      {"connectionPool", connectionPool()},
      {"outlierDetection", outlierDetection()},
      {"tls", clientTls()},
      {"portLevelSettings", listOf(portLevel)},
      {"tunnel", object({{"protocol", enumOf({"CONNECT", "POST"})},
                         {"targetHost", nonEmptyString(), kRequired},
                         {"targetPort", port(), kRequired}})},
      {"proxyProtocol", object({{"version", enumOf({"V1", "V2"})}})},
  });
  return check;
}

const Check& serverTls() {
  static const Check tlsVersion =
      enumOf({"TLS_AUTO", "TLSV1_0", "TLSV1_1", "TLSV1_2", "TLSV1_3"});
  static const Check check = object(
      {
          {"httpsRedirect", boolean()},
          {"mode", enumOf({"PASSTHROUGH", "SIMPLE", "MUTUAL", "AUTO_PASSTHROUGH", "ISTIO_MUTUAL",
                           "OPTIONAL_MUTUAL"})},
          {"serverCertificate", string()},
          {"privateKey", string()},
          {"caCertificates", string()},
          {"caCrl", string()},
          {"credentialName", string()},
          {"credentialNames", stringList()},
          {"tlsCertificates", any()},
          {"subjectAltNames", stringList()},
          {"verifyCertificateSpki", stringList()},
          {"verifyCertificateHash", stringList()},
          {"minProtocolVersion", tlsVersion},
          {"maxProtocolVersion", tlsVersion},
          {"cipherSuites", stringList()},
      },
      {needsCertificate({"SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL"}, "serverCertificate")});
  return check;
}

const Check& servicePort() {
  static const Check check = object({
      {"number", port(), kRequired},
      {"protocol", protocol()},
      {"name", string()},
      {"targetPort", port()},
  });
  return check;
}

const Check& workloadEntryFields(bool needAddress) {
  auto fields = std::vector<Field>{
      {"address", string()},
      {"ports", mapOf(port())},
      {"labels", stringMap()},
      {"network", string()},
      {"locality", string()},
      {"weight", integer(0, kUint32Max)},
      {"serviceAccount", string()},
  };
  static const Check endpoint = object(fields);
  static const Check entry = object(fields, {oneOrMoreOf({"address", "network"})});
  return needAddress ? entry : endpoint;
}

// Sidecar egress hosts are "namespace/dnsName" ("*/*", "./reviews.default.svc...").
Check egressHost() {
  return [](Context& c, const json& v, const FieldPath& p) {
    if (!v.is_string()) return c.error(p, "must be a string");
    const auto& host = v.get_ref<const std::string&>();
    auto slash = host.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == host.size()) {
      c.error(p, "must be namespace/dnsName, such as \"./*\" or \"istio-system/*\"");
    }
  };
}

}  // namespace

const Check& virtualServiceSpec() {
  static const Check check = object({
      {"hosts", listOf(nonEmptyString())},
      {"gateways", listOf(nonEmptyString())},
      {"http", listOf(httpRoute())},
      {"tls", listOf(tlsRoute())},
      {"tcp", listOf(tcpRoute())},
      {"exportTo", stringList()},
  });
  return check;
}

const Check& destinationRuleSpec() {
  static const Check subset = object({
      {"name", nonEmptyString(), kRequired},
      {"labels", stringMap()},
      {"trafficPolicy", trafficPolicy()},
  });
  static const Check check = object({
      {"host", nonEmptyString(), kRequired},
      {"trafficPolicy", trafficPolicy()},
      {"subsets", allOf({listOf(subset), uniqueField("name", "subset name")})},
      {"exportTo", stringList()},
      {"workloadSelector", object({{"matchLabels", stringMap()}})},
  });
  return check;
}

const Check& gatewaySpec() {
  static const Check serverPort = object({
      {"number", port(), kRequired},
      {"protocol", protocol(), kRequired},
      {"name", string()},
      {"targetPort", port()},
  });
  static const Check server = object({
      {"port", serverPort, kRequired},
      {"bind", string()},
      {"hosts", listOf(nonEmptyString(), 1), kRequired},
      {"tls", serverTls()},
      {"defaultEndpoint", string()},
      {"name", string()},
  });
  static const Check check = object({
      {"selector", stringMap()},
      {"servers", allOf({listOf(server, 1), uniqueField("name", "server name")}), kRequired},
  });
  return check;
}

const Check& serviceEntrySpec() {
  static const Check check = object(
      {
          {"hosts", listOf(nonEmptyString(), 1), kRequired},
          {"addresses", stringList()},
          {"ports", allOf({listOf(servicePort()), uniqueField("name", "port name")})},
          {"location", enumOf({"MESH_EXTERNAL", "MESH_INTERNAL"})},
          {"resolution", enumOf({"NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN"})},
          {"endpoints", listOf(workloadEntryFields(false))},
          {"workloadSelector", object({{"labels", stringMap()}})},
          {"exportTo", stringList()},
          {"subjectAltNames", stringList()},
      },
      {atMostOneOf({"endpoints", "workloadSelector"})});
  return check;
}

const Check& workloadEntrySpec() { return workloadEntryFields(true); }

const Check& sidecarSpec() {
  static const Check captureMode = enumOf({"DEFAULT", "IPTABLES", "NONE"});
  static const Check ingress = object({
      {"port", servicePort(), kRequired},
      {"bind", string()},
      {"captureMode", captureMode},
      {"defaultEndpoint", string()},
      {"tls", serverTls()},
      {"connectionPool", connectionPool()},
  });
  static const Check egress = object({
      {"port", servicePort()},
      {"bind", string()},
      {"captureMode", captureMode},
      {"hosts", listOf(egressHost(), 1), kRequired},
  });
  static const Check check = object({
      {"workloadSelector", object({{"labels", stringMap()}})},
      {"ingress", listOf(ingress)},
      {"egress", listOf(egress)},
      {"outboundTrafficPolicy", object({{"mode", enumOf({"REGISTRY_ONLY", "ALLOW_ANY"})},
                                        {"egressProxy", destination()}})},
      {"inboundConnectionPool", connectionPool()},
  });
  return check;
}

}  // namespace mesh::core::config::detail
