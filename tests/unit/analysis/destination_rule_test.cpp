#include <catch2/catch.hpp>

#include "analysis_fixture.h"

using namespace mesh::pilot::analysis;
using namespace mesh::pilot::analysis::test;

namespace {
std::string dr(const std::string& name, const std::string& body) {
  return "---\napiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata:\n"
         "  name: " + name + "\nspec:\n" + body;
}
}  // namespace

TEST_CASE("Bookinfo's destination rules are clean", "[analysis][dr]") {
  CHECK(dump(analyzeYaml(bookinfo())) == "");
}

TEST_CASE("IST0128 and IST0129: TLS origination without a CA", "[analysis][dr]") {
  auto ms = analyzeYaml(bookinfo() + dr("ext", "  host: ratings\n  trafficPolicy:\n    tls:\n"
                                               "      mode: SIMPLE\n    portLevelSettings:\n"
                                               "    - port: {number: 9080}\n      tls:\n"
                                               "        mode: MUTUAL\n"
                                               "        clientCertificate: /etc/c.pem\n"));
  auto destination = withCode(ms, "IST0128");
  REQUIRE(destination.size() == 1);
  CHECK(destination[0].text ==
        "DestinationRule ext in namespace default has TLS mode set to SIMPLE but no "
        "caCertificates are set to validate server identity for host: ratings");
  auto port = withCode(ms, "IST0129");
  REQUIRE(port.size() == 1);
  CHECK(port[0].text.find("MUTUAL") != std::string::npos);
  CHECK(port[0].text.find("at port 9080") != std::string::npos);

  auto verified = analyzeYaml(bookinfo() + dr("ext", "  host: ratings\n  trafficPolicy:\n"
                                                     "    tls:\n      mode: SIMPLE\n"
                                                     "      caCertificates: /etc/ca.pem\n"));
  CHECK(withCode(verified, "IST0128").empty());
  auto istio = analyzeYaml(bookinfo() + dr("ext", "  host: ratings\n  trafficPolicy:\n"
                                                  "    tls: {mode: ISTIO_MUTUAL}\n"));
  CHECK(withCode(istio, "IST0128").empty());
}

TEST_CASE("IST0173: a subset that selects no pod", "[analysis][dr]") {
  auto ms = analyzeYaml(bookinfo() + dr("reviews-canary", "  host: reviews\n  subsets:\n"
                                                          "  - name: v4\n    labels: {version: v4}\n"
                                                          "  - name: v3\n    labels: {version: v3}\n"));
  auto found = withCode(ms, "IST0173");
  REQUIRE(found.size() == 1);
  CHECK(found[0].text.find("The Subset v4 defined in the DestinationRule does not select any "
                           "pods") == 0);
}

TEST_CASE("IST0174: a DestinationRule for a host nobody serves", "[analysis][dr]") {
  auto ms = analyzeYaml(bookinfo() + dr("ghost", "  host: ghost\n"));
  auto found = withCode(ms, "IST0174");
  REQUIRE(found.size() == 1);
  CHECK(found[0].text == "DestinationRule for non-existent service registry host \"ghost\".");
  // A ServiceEntry host counts as known.
  auto entry = analyzeYaml(
      "apiVersion: networking.istio.io/v1beta1\nkind: ServiceEntry\nmetadata: {name: ext}\n"
      "spec:\n  hosts: [api.example.com]\n  ports: [{number: 443, name: https, protocol: HTTPS}]\n"
      "  resolution: DNS\n" + dr("ext", "  host: api.example.com\n"));
  CHECK(withCode(entry, "IST0174").empty());
}
