// Service, ServiceEntry and Deployment analyzers.
#include <catch2/catch.hpp>

#include "analysis_fixture.h"

using namespace mesh::pilot::analysis;
using namespace mesh::pilot::analysis::test;

namespace {
std::string service(const std::string& name, const std::string& ports,
                    const std::string& extra = "") {
  return "---\napiVersion: v1\nkind: Service\nmetadata: {name: " + name + "}\nspec:\n" + extra +
         "  selector: {app: web}\n  ports:\n" + ports;
}
std::string serviceEntry(const std::string& name, const std::string& body) {
  return "---\napiVersion: networking.istio.io/v1beta1\nkind: ServiceEntry\nmetadata:\n  name: " +
         name + "\nspec:\n" + body;
}
const std::string kWeb =
    "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
    "  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n"
    "    spec:\n      containers:\n      - {name: web, image: nginx}\n";
}  // namespace

TEST_CASE("IST0118: a port name that does not name a protocol", "[analysis][service]") {
  auto ms = analyzeYaml(service("web", "  - {name: web, port: 80, targetPort: 8080}\n"
                                       "  - {name: http-alt, port: 81}\n"
                                       "  - {name: grpc-web, port: 82}\n"
                                       "  - {name: metrics, port: 83, appProtocol: http}\n"));
  auto found = withCode(ms, "IST0118");
  REQUIRE(found.size() == 1);
  CHECK(found[0].text ==
        "Port name web (port: 80, targetPort: 8080) doesn't follow the naming convention of "
        "Istio port.");
  CHECK(found[0].type->level == Level::info);
}

TEST_CASE("IST0150: ExternalName service port names", "[analysis][service]") {
  auto ms = analyzeYaml(service("db", "  - {name: tcp, port: 5432}\n",
                                "  type: ExternalName\n  externalName: db.example.com\n"));
  REQUIRE(withCode(ms, "IST0150").size() == 1);
  CHECK(withCode(ms, "IST0118").empty());
  auto named = analyzeYaml(service("api", "  - {name: https, port: 443}\n",
                                   "  type: ExternalName\n  externalName: api.example.com\n"));
  CHECK(withCode(named, "IST0150").empty());
}

TEST_CASE("IST0134: TCP ServiceEntry ports need addresses", "[analysis][serviceentry]") {
  auto ms = analyzeYaml(serviceEntry("db", "  hosts: [db.example.com]\n  ports:\n"
                                           "  - {number: 5432, name: tcp, protocol: TCP}\n"
                                           "  resolution: DNS\n"));
  REQUIRE(withCode(ms, "IST0134").size() == 1);
  CHECK(withCode(ms, "IST0134")[0].text == "ServiceEntry addresses are required for this protocol.");
  auto addressed = analyzeYaml(serviceEntry("db", "  hosts: [db.example.com]\n"
                                                  "  addresses: [10.1.2.3/32]\n  ports:\n"
                                                  "  - {number: 5432, name: tcp, protocol: TCP}\n"
                                                  "  resolution: DNS\n"));
  CHECK(withCode(addressed, "IST0134").empty());
  auto http = analyzeYaml(serviceEntry("api", "  hosts: [api.example.com]\n  ports:\n"
                                              "  - {number: 80, name: http, protocol: HTTP}\n"
                                              "  resolution: DNS\n"));
  CHECK(withCode(http, "IST0134").empty());
}

TEST_CASE("IST0177: ServiceEntries disagree on a port's protocol", "[analysis][serviceentry]") {
  auto ms = analyzeYaml(
      serviceEntry("a", "  hosts: [api.example.com]\n  ports:\n"
                        "  - {number: 443, name: https, protocol: HTTPS}\n  resolution: DNS\n") +
      serviceEntry("b", "  hosts: [api.example.com]\n  ports:\n"
                        "  - {number: 443, name: tls, protocol: TLS}\n  resolution: DNS\n"));
  auto found = withCode(ms, "IST0177");
  REQUIRE(found.size() == 2);
  CHECK(found[0].text.find("[HTTPS TLS]") != std::string::npos);
  auto same = analyzeYaml(
      serviceEntry("a", "  hosts: [api.example.com]\n  ports:\n"
                        "  - {number: 443, name: https, protocol: HTTPS}\n  resolution: DNS\n") +
      serviceEntry("b", "  hosts: [api.example.com]\n  ports:\n"
                        "  - {number: 443, name: https, protocol: HTTPS}\n  resolution: DNS\n"));
  CHECK(withCode(same, "IST0177").empty());
}

TEST_CASE("IST0116: services give one port different protocols", "[analysis][deployment]") {
  auto ms = analyzeYaml(kWeb + service("web-tcp", "  - {name: http, port: 53}\n") +
                        service("web-udp", "  - {name: udp, port: 53, protocol: UDP}\n"));
  auto found = withCode(ms, "IST0116");
  REQUIRE(found.size() == 1);
  CHECK(found[0].text == "This deployment web is associated with multiple services using port "
                         "53 but different protocols: [TCP UDP]");
  CHECK(found[0].origin.friendlyName() == "Deployment web");
}

TEST_CASE("IST0137: services map one targetPort from different ports", "[analysis][deployment]") {
  auto ms = analyzeYaml(kWeb + service("web-a", "  - {name: http, port: 80, targetPort: 8080}\n") +
                        service("web-b", "  - {name: http, port: 81, targetPort: 8080}\n"));
  auto found = withCode(ms, "IST0137");
  REQUIRE(found.size() == 1);
  CHECK(found[0].text == "This deployment web is associated with multiple services [web-a "
                         "web-b] using targetPort \"8080\" but different ports: [80 81].");
  auto agree = analyzeYaml(kWeb + service("web-a", "  - {name: http, port: 80, targetPort: 8080}\n") +
                           service("web-b", "  - {name: http, port: 80, targetPort: 8080}\n"));
  CHECK(withCode(agree, "IST0137").empty());
  CHECK(withCode(agree, "IST0116").empty());
}

TEST_CASE("IST0144: UID 1337 belongs to the sidecar", "[analysis][deployment]") {
  std::string uid = kWeb;
  uid.replace(uid.find("      - {name: web, image: nginx}\n"), 34,
              "      - name: web\n        image: nginx\n        securityContext:\n"
              "          runAsUser: 1337\n");
  auto ms = analyzeYaml(uid);
  REQUIRE(withCode(ms, "IST0144").size() == 1);
  CHECK(withCode(ms, "IST0144")[0].text == "User ID (UID) 1337 is reserved for the sidecar proxy.");
  CHECK(withCode(analyzeYaml(kWeb), "IST0144").empty());
}
