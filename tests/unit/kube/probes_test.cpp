#include <catch2/catch.hpp>

#include "pilot/kube/probes.h"

namespace kube = mesh::pilot::kube;

namespace {

YAML::Node spec(const char* text) { return YAML::Load(text); }

}  // namespace

TEST_CASE("HTTP probes go to the sidecar and the originals are kept for it") {
  YAML::Node pod = spec(R"(
containers:
  - name: web
    ports: [{name: http, containerPort: 8080}]
    readinessProbe:
      httpGet: {path: /ready, port: http, httpHeaders: [{name: X-Probe, value: "1"}]}
      timeoutSeconds: 3
      periodSeconds: 7
    livenessProbe:
      httpGet: {path: /live, port: 9090, scheme: HTTPS}
    startupProbe:
      tcpSocket: {port: 8080}
)");
  nlohmann::json probers = kube::rewriteProbes(pod);
  YAML::Node web = pod["containers"][0];
  CHECK(web["readinessProbe"]["httpGet"]["path"].as<std::string>() == "/app-health/web/readyz");
  CHECK(web["readinessProbe"]["httpGet"]["port"].as<int>() == 15021);
  CHECK(web["readinessProbe"]["periodSeconds"].as<int>() == 7);  // timing is kept
  CHECK(web["livenessProbe"]["httpGet"]["path"].as<std::string>() == "/app-health/web/livez");
  CHECK(web["livenessProbe"]["httpGet"]["scheme"].as<std::string>() == "HTTP");
  CHECK_FALSE(web["startupProbe"]["tcpSocket"]);
  CHECK(web["startupProbe"]["httpGet"]["path"].as<std::string>() == "/app-health/web/startupz");

  const auto& ready = probers["/app-health/web/readyz"];
  CHECK(ready["httpGet"]["port"] == 8080);  // the name resolved to the number
  CHECK(ready["httpGet"]["path"] == "/ready");
  CHECK(ready["httpGet"]["httpHeaders"][0]["name"] == "X-Probe");
  CHECK(ready["timeoutSeconds"] == 3);
  CHECK(probers["/app-health/web/livez"]["httpGet"]["scheme"] == "HTTPS");
  CHECK(probers["/app-health/web/startupz"]["tcpSocket"]["port"] == 8080);
}

TEST_CASE("probes the sidecar cannot or need not run are left alone") {
  YAML::Node pod = spec(R"(
containers:
  - name: a
    readinessProbe:
      exec: {command: [cat, /tmp/ready]}
    livenessProbe:
      httpGet: {path: /x, port: undeclared}
    startupProbe:
      httpGet: {path: /app-health/a/startupz, port: 15021}
  - name: b
    readinessProbe:
      grpc: {port: 9000}
)");
  YAML::Node before = YAML::Clone(pod);
  nlohmann::json probers = kube::rewriteProbes(pod);
  CHECK(probers.empty());
  CHECK(YAML::Dump(pod) == YAML::Dump(before));
}

TEST_CASE("each container's probes get their own paths") {
  YAML::Node pod = spec(R"(
containers:
  - name: a
    readinessProbe: {httpGet: {path: /a, port: 1}}
  - name: b
    readinessProbe: {httpGet: {path: /b, port: 2}}
)");
  nlohmann::json probers = kube::rewriteProbes(pod);
  CHECK(probers["/app-health/a/readyz"]["httpGet"]["path"] == "/a");
  CHECK(probers["/app-health/b/readyz"]["httpGet"]["port"] == 2);
}
