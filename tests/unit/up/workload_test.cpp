#include <catch2/catch.hpp>

#include "cmd/up/ingress.h"
#include "cmd/up/workload.h"
#include "core/config/loader.h"

namespace up = mesh::cmd::up;
namespace config = mesh::core::config;

namespace {

std::vector<config::Resource> load(const std::string& yaml) {
  config::LoadResult out;
  config::loadText(yaml, "test.yaml", out);
  INFO(config::formatErrors(out.errors));
  REQUIRE(out.errors.empty());
  return out.resources;
}

const char* kDeployment = R"YAML(apiVersion: apps/v1
kind: Deployment
metadata:
  name: reviews-v2
  namespace: shop
spec:
  replicas: 3
  selector:
    matchLabels: {app: reviews}
  template:
    metadata:
      labels: {app: reviews, version: v2}
    spec:
      serviceAccountName: bookinfo-reviews
      containers:
      - name: reviews
        image: mesh:0.1.0
        command: [mesh]
        args: [echo, --service, reviews, --port, "9080", --call, "http://ratings:9080/ratings/$(ID)"]
        env:
        - {name: ID, value: "7"}
        - name: MY_POD
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        ports:
        - containerPort: 9080
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  ports: [{port: 9080, name: http}]
  selector: {app: reviews}
)YAML";

}  // namespace

TEST_CASE("a Deployment becomes a workload with its pod template's shape") {
  auto set = up::extractWorkloads(load(kDeployment));
  REQUIRE(set.errors.empty());
  REQUIRE(set.workloads.size() == 1);
  const auto& w = set.workloads[0];
  CHECK(w.key() == "shop/reviews-v2");
  CHECK(w.replicas == 3);
  CHECK(w.serviceAccount == "bookinfo-reviews");
  CHECK(w.labels == std::map<std::string, std::string>{{"app", "reviews"}, {"version", "v2"}});
  CHECK(w.command == std::vector<std::string>{"mesh", "echo", "--service", "reviews", "--port",
                                              "9080", "--call",
                                              "http://ratings:9080/ratings/$(ID)"});
  CHECK(w.ports == std::vector<std::uint32_t>{9080});
  REQUIRE(w.env.size() == 2);
  CHECK(w.env[1].fieldPath == "metadata.name");
  CHECK(w.source == "test.yaml:1");
}

TEST_CASE("Deployments that cannot run here are reported and the others still run") {
  std::string yaml = std::string(kDeployment) + R"(---
apiVersion: apps/v1
kind: Deployment
metadata: {name: image-only}
spec:
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      containers: [{name: x, image: nginx}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: two}
spec:
  selector: {matchLabels: {app: second}}
  template:
    metadata: {labels: {app: second}}
    spec:
      containers: [{name: a, image: a, command: [a]}, {name: b, image: b, command: [b]}]
)";
  auto set = up::extractWorkloads(load(yaml));
  REQUIRE(set.workloads.size() == 1);
  REQUIRE(set.errors.size() == 2);
  CHECK_THAT(set.errors[0], Catch::Contains("default/image-only") && Catch::Contains("no command"));
  CHECK_THAT(set.errors[1],
             Catch::Contains("default/two") && Catch::Contains("several containers"));
}

TEST_CASE("the pod fingerprint changes with what shapes a pod and only with that") {
  auto a = up::extractWorkloads(load(kDeployment)).workloads.at(0);
  auto b = a;
  b.source = "elsewhere.yaml:9";
  b.replicas = 1;  // scaling keeps the pods
  CHECK(a.podFingerprint() == b.podFingerprint());
  auto c = a;
  c.command.push_back("--fail-percent");
  CHECK(a.podFingerprint() != c.podFingerprint());
  auto d = a;
  d.labels["version"] = "v3";
  CHECK(a.podFingerprint() != d.podFingerprint());
}

TEST_CASE("the ingress gateway serves the ports of the Gateways that select it") {
  auto resources = load(R"YAML(apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: bookinfo-gateway}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8080, name: http, protocol: HTTP}
    hosts: ["*"]
  - port: {number: 8443, name: https, protocol: HTTPS}
    hosts: ["*"]
    tls: {mode: SIMPLE, credentialName: cert}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: again}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8080, name: http2, protocol: HTTP}
    hosts: ["a.example"]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: egress}
spec:
  selector: {istio: egressgateway}
  servers:
  - port: {number: 9000, name: http, protocol: HTTP}
    hosts: ["*"]
)YAML");
  std::map<std::string, std::string> labels = {{"istio", "ingressgateway"},
                                               {"app", "istio-ingressgateway"}};
  CHECK(up::gatewayPorts(resources, labels) == std::vector<std::uint32_t>{8080, 8443});
  CHECK(up::gatewayPorts(resources, {{"app", "istio-ingressgateway"}}).empty());
}
