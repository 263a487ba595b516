// Each kind of mistake an Istio user makes gives the file, the line, the resource and the
// field, in one line that says what is wrong.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/config/loader.h"

using namespace mesh::core::config;

namespace {

// Loads one resource whose spec starts on line 6 of "t.yaml":
//   1 apiVersion / 2 kind / 3 metadata: / 4   name: t / 5 spec: / 6 first line of `spec`.
std::vector<std::string> errorsFor(const std::string& apiVersion, const std::string& kind,
                                   const std::string& spec) {
  LoadResult r;
  loadText("apiVersion: " + apiVersion + "\nkind: " + kind + "\nmetadata:\n  name: t\nspec:\n" +
               spec,
           "t.yaml", r);
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.push_back(e.toString());
  if (out.empty()) CHECK(r.resources.size() == 1);
  else CHECK(r.resources.empty());
  return out;
}

std::vector<std::string> vs(const std::string& spec) {
  return errorsFor("networking.istio.io/v1beta1", "VirtualService", spec);
}
std::vector<std::string> dr(const std::string& spec) {
  return errorsFor("networking.istio.io/v1beta1", "DestinationRule", spec);
}
std::vector<std::string> one(const std::string& error) { return {error}; }

}  // namespace

TEST_CASE("weights out of range and weights not adding up to 100", "[config]") {
  CHECK(vs("  hosts: [reviews]\n"
           "  http:\n"
           "  - route:\n"
           "    - destination:\n"
           "        host: reviews\n"
           "      weight: 150\n") ==
        one("t.yaml:11: VirtualService default/t: spec.http[0].route[0].weight: "
            "must be an integer between 0 and 100"));
  CHECK(vs("  hosts: [reviews]\n"
           "  http:\n"
           "  - route:\n"
           "    - destination: {host: reviews, subset: v1}\n"
           "      weight: 40\n"
           "    - destination: {host: reviews, subset: v2}\n"
           "      weight: 50\n") ==
        one("t.yaml:8: VirtualService default/t: spec.http[0].route: "
            "weights must add up to 100, not 90"));
  // A quoted number is a string, as it is to Kubernetes.
  CHECK(vs("  hosts: [reviews]\n"
           "  tcp:\n"
           "  - route:\n"
           "    - destination: {host: reviews}\n"
           "      weight: \"100\"\n") ==
        one("t.yaml:10: VirtualService default/t: spec.tcp[0].route[0].weight: "
            "must be an integer between 0 and 100"));
  // One weighted destination alone is fine.
  CHECK(vs("  hosts: [reviews]\n"
           "  http:\n"
           "  - route:\n"
           "    - destination: {host: reviews}\n"
           "      weight: 100\n")
            .empty());
}

TEST_CASE("string matches need exactly one of exact, prefix, regex; regexes must compile",
          "[config]") {
  CHECK(vs("  hosts: [reviews]\n"
           "  http:\n"
           "  - match:\n"
           "    - uri:\n"
           "        exact: /a\n"
           "        prefix: /b\n"
           "    route:\n"
           "    - destination: {host: reviews}\n") ==
        one("t.yaml:9: VirtualService default/t: spec.http[0].match[0].uri: "
            "must set exactly one of exact, prefix or regex"));
  auto errors = vs("  hosts: [reviews]\n"
                   "  http:\n"
                   "  - match:\n"
                   "    - headers:\n"
                   "        x-user:\n"
                   "          regex: \"(unclosed\"\n"
                   "    route:\n"
                   "    - destination: {host: reviews}\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].rfind("t.yaml:11: VirtualService default/t: "
                        "spec.http[0].match[0].headers.x-user.regex: invalid regex: ",
                        0) == 0);
  // RE2's leading (?i) is understood; an empty header match tests presence.
  CHECK(vs("  hosts: [reviews]\n"
           "  http:\n"
           "  - match:\n"
           "    - uri: {regex: '(?i)^/API/.*'}\n"
           "      headers: {x-debug: {}}\n"
           "    route:\n"
           "    - destination: {host: reviews}\n")
            .empty());
}

TEST_CASE("durations parse or say why not", "[config]") {
  CHECK(vs("  hosts: [reviews]\n"
           "  http:\n"
           "  - route:\n"
           "    - destination: {host: reviews}\n"
           "    timeout: 10\n") ==
        one("t.yaml:10: VirtualService default/t: spec.http[0].timeout: "
            "must be a duration such as \"1.5s\" or \"100ms\""));
  CHECK(vs("  hosts: [reviews]\n"
           "  http:\n"
           "  - route:\n"
           "    - destination: {host: reviews}\n"
           "    retries: {attempts: 3, perTryTimeout: 2sec}\n") ==
        one("t.yaml:10: VirtualService default/t: spec.http[0].retries.perTryTimeout: "
            "invalid duration \"2sec\": unknown unit (use ns, us, ms, s, m or h)"));
  CHECK(dr("  host: reviews\n"
           "  trafficPolicy:\n"
           "    outlierDetection:\n"
           "      interval: 1.0005s\n") ==
        one("t.yaml:9: DestinationRule default/t: "
            "spec.trafficPolicy.outlierDetection.interval: "
            "invalid duration \"1.0005s\": only durations to ms precision are supported"));
}

TEST_CASE("enums name the allowed values", "[config]") {
  CHECK(dr("  host: reviews\n"
           "  trafficPolicy:\n"
           "    loadBalancer:\n"
           "      simple: ROUND_ROBBIN\n") ==
        one("t.yaml:9: DestinationRule default/t: spec.trafficPolicy.loadBalancer.simple: "
            "must be one of UNSPECIFIED, LEAST_CONN, RANDOM, PASSTHROUGH, ROUND_ROBIN or "
            "LEAST_REQUEST (got \"ROUND_ROBBIN\")"));
  CHECK(dr("  host: reviews\n"
           "  subsets:\n"
           "  - name: v1\n"
           "    trafficPolicy:\n"
           "      tls: {mode: istio_mutual}\n") ==
        one("t.yaml:10: DestinationRule default/t: spec.subsets[0].trafficPolicy.tls.mode: "
            "must be one of DISABLE, SIMPLE, MUTUAL or ISTIO_MUTUAL (got \"istio_mutual\")"));
  CHECK(errorsFor("security.istio.io/v1", "PeerAuthentication",
                  "  mtls:\n"
                  "    mode: STRICTER\n") ==
        one("t.yaml:7: PeerAuthentication default/t: spec.mtls.mode: "
            "must be one of UNSET, DISABLE, PERMISSIVE or STRICT (got \"STRICTER\")"));
  CHECK(errorsFor("security.istio.io/v1", "AuthorizationPolicy",
                  "  action: REJECT\n"
                  "  rules: [{}]\n") ==
        one("t.yaml:6: AuthorizationPolicy default/t: spec.action: "
            "must be one of ALLOW, DENY, AUDIT or CUSTOM (got \"REJECT\")"));
}

TEST_CASE("unknown fields are errors naming the field, with a suggestion", "[config]") {
  CHECK(vs("  hosts: [reviews]\n"
           "  http:\n"
           "  - rout:\n"
           "    - destination: {host: reviews}\n"
           "    redirect: {uri: /x}\n") ==
        one("t.yaml:8: VirtualService default/t: spec.http[0].rout: "
            "unknown field \"rout\" (did you mean \"route\"?)"));
  CHECK(dr("  host: reviews\n"
           "  colour: blue\n") ==
        one("t.yaml:7: DestinationRule default/t: spec.colour: unknown field \"colour\""));
  CHECK(errorsFor("networking.istio.io/v1", "Gateway",
                  "  servers:\n"
                  "  - port: {number: 80, protocol: HTTP}\n"
                  "    hosts: ['*']\n"
                  "extra: true\n") ==
        one("t.yaml:9: Gateway default/t: extra: unknown field \"extra\""));
}

TEST_CASE("wrong types and missing required fields", "[config]") {
  CHECK(vs("  hosts: reviews\n") ==
        one("t.yaml:6: VirtualService default/t: spec.hosts: must be a list"));
  // A missing field is reported on the line of the object that should hold it.
  CHECK(vs("  hosts: [reviews]\n"
           "  http:\n"
           "  - route:\n"
           "    - destination:\n"
           "        subset: v1\n") ==
        one("t.yaml:9: VirtualService default/t: spec.http[0].route[0].destination.host: "
            "required field is missing"));
  CHECK(vs("  hosts: [reviews]\n"
           "  http:\n"
           "  - timeout: 1s\n") ==
        one("t.yaml:8: VirtualService default/t: spec.http[0]: "
            "must set route, redirect, directResponse or delegate"));
  CHECK(errorsFor("networking.istio.io/v1", "Gateway", "  selector: {istio: ingressgateway}\n") ==
        one("t.yaml:5: Gateway default/t: spec.servers: required field is missing"));
  CHECK(errorsFor("networking.istio.io/v1", "Gateway",
                  "  servers:\n"
                  "  - port: {number: 443, protocol: HTTPS, name: https}\n"
                  "    hosts: ['*']\n"
                  "    tls: {mode: SIMPLE}\n") ==
        one("t.yaml:9: Gateway default/t: spec.servers[0].tls: "
            "SIMPLE TLS needs credentialName, or serverCertificate and privateKey"));
  CHECK(errorsFor("networking.istio.io/v1", "ServiceEntry",
                  "  hosts: [api.example.com]\n"
                  "  ports:\n"
                  "  - number: 70000\n"
                  "    protocol: HTTPS\n") ==
        one("t.yaml:8: ServiceEntry default/t: spec.ports[0].number: "
            "must be a port number between 1 and 65535"));
  CHECK(dr("  host: reviews\n"
           "  subsets:\n"
           "  - name: v1\n"
           "  - name: v1\n") ==
        one("t.yaml:9: DestinationRule default/t: spec.subsets[1].name: "
            "duplicate subset name \"v1\""));
  CHECK(errorsFor("security.istio.io/v1", "PeerAuthentication",
                  "  portLevelMtls:\n"
                  "    8080: {mode: DISABLE}\n") ==
        one("t.yaml:6: PeerAuthentication default/t: spec.portLevelMtls: "
            "requires selector to be set"));
  CHECK(errorsFor("security.istio.io/v1", "AuthorizationPolicy",
                  "  action: CUSTOM\n") ==
        one("t.yaml:5: AuthorizationPolicy default/t: spec.provider: "
            "required when action is CUSTOM"));
  CHECK(errorsFor("networking.istio.io/v1", "Sidecar",
                  "  egress:\n"
                  "  - hosts: [reviews.default.svc.cluster.local]\n") ==
        one("t.yaml:7: Sidecar default/t: spec.egress[0].hosts[0]: "
            "must be namespace/dnsName, such as \"./*\" or \"istio-system/*\""));
}

TEST_CASE("every error of a resource is reported, not just the first", "[config]") {
  auto errors = vs("  hosts: [reviews]\n"
                   "  http:\n"
                   "  - route:\n"
                   "    - destination: {host: reviews}\n"
                   "      weight: -1\n"
                   "    timeout: soon\n");
  CHECK(errors.size() == 2);
}

TEST_CASE("a resource without kind, apiVersion or metadata.name is an error naming the field",
          "[config]") {
  LoadResult r;
  loadText(
      "apiVersion: networking.istio.io/v1\n"
      "metadata: {name: no-kind}\n"
      "---\n"
      "kind: VirtualService\n"
      "metadata: {name: no-version}\n"
      "---\n"
      "apiVersion: networking.istio.io/v1\n"
      "kind: VirtualService\n"
      "metadata: {namespace: prod}\n"
      "spec: {hosts: [x], http: [{route: [{destination: {host: x}}]}]}\n"
      "---\n"
      "apiVersion: networking.istio.io/v1\n"
      "kind: DestinationRule\n"
      "spec: {host: x}\n",
      "m.yaml", r);
  CHECK(r.resources.empty());
  REQUIRE(r.errors.size() == 4);
  CHECK(r.errors[0].toString() == "m.yaml:1: kind: required field is missing");
  CHECK(r.errors[1].toString() ==
        "m.yaml:4: VirtualService default/no-version: apiVersion: required field is missing");
  CHECK(r.errors[2].toString() ==
        "m.yaml:9: VirtualService: metadata.name: required field is missing");
  CHECK(r.errors[2].ns == "prod");
  CHECK(r.errors[3].toString() ==
        "m.yaml:12: DestinationRule: metadata: required field is missing");
}

TEST_CASE("bad names, unsupported versions and non-string labels", "[config]") {
  LoadResult r;
  loadText(
      "apiVersion: networking.istio.io/v2\n"
      "kind: VirtualService\n"
      "metadata: {name: future}\n"
      "---\n"
      "apiVersion: v1\n"
      "kind: Service\n"
      "metadata:\n"
      "  name: Reviews_Service\n"
      "  labels:\n"
      "    version: 1\n"
      "    canary: yes\n",
      "n.yaml", r);
  REQUIRE(r.errors.size() == 4);
  CHECK(r.errors[0].toString() ==
        "n.yaml:1: VirtualService default/future: apiVersion: version v2 of VirtualService is "
        "not supported (networking.istio.io versions: v1, v1beta1, v1alpha3)");
  CHECK(r.errors[1].toString().rfind(
            "n.yaml:8: Service default/Reviews_Service: metadata.name: must be a lowercase "
            "RFC 1123 name",
            0) == 0);
  CHECK(r.errors[2].toString() ==
        "n.yaml:10: Service default/Reviews_Service: metadata.labels.version: must be a string");
  CHECK(r.errors[3].toString() ==
        "n.yaml:11: Service default/Reviews_Service: metadata.labels.canary: must be a string");
}

TEST_CASE("YAML syntax errors give file:line:column and spare the other documents",
          "[config]") {
  LoadResult r;
  loadText(
      "apiVersion: v1\n"
      "kind: Namespace\n"
      "metadata: {name: ok}\n"
      "---\n"
      "apiVersion: v1\n"
      "kind: Service\n"
      "metadata:\n"
      "  name: x\n"
      "   labels: {}\n"
      "---\n"
      "apiVersion: v1\n"
      "kind: Namespace\n"
      "metadata: {name: also-ok}\n",
      "syntax.yaml", r);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].toString() == "syntax.yaml:9:10: illegal map value");
  REQUIRE(r.resources.size() == 2);
  CHECK(r.resources[1].line == 11);
}

TEST_CASE("duplicate keys are refused, as Kubernetes does", "[config]") {
  CHECK(vs("  hosts: [a]\n"
           "  hosts: [b]\n") ==
        one("t.yaml:7: VirtualService default/t: spec: duplicate key \"hosts\""));
}

TEST_CASE("Kubernetes kinds are checked on the fields mesh reads and pass the rest",
          "[config]") {
  CHECK(errorsFor("v1", "Service",
                  "  type: ClusterIP\n"
                  "  sessionAffinity: None\n"
                  "  ports:\n"
                  "  - port: 80\n"
                  "    targetPort: http\n")
            .empty());
  CHECK(errorsFor("v1", "Service",
                  "  ports:\n"
                  "  - port: 80\n"
                  "    protocol: HTTP\n") ==
        one("t.yaml:8: Service default/t: spec.ports[0].protocol: "
            "must be one of TCP, UDP or SCTP (got \"HTTP\")"));
}
