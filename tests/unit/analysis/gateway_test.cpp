#include <catch2/catch.hpp>

#include "analysis_fixture.h"

using namespace mesh::pilot::analysis;
using namespace mesh::pilot::analysis::test;

namespace {
std::string gateway(const std::string& name, const std::string& servers,
                    const std::string& selector = "istio: ingressgateway") {
  return "---\napiVersion: networking.istio.io/v1beta1\nkind: Gateway\nmetadata:\n  name: " +
         name + "\nspec:\n  selector:\n    " + selector + "\n  servers:\n" + servers;
}
const std::string kHttp80 =
    "  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: [bookinfo.example.com]\n";
}  // namespace

TEST_CASE("a gateway on the assumed ingress gateway's port 80 is clean", "[analysis][gw]") {
  CHECK(dump(analyzeYaml(gateway("gw", kHttp80))) == "");
}

TEST_CASE("IST0101: a gateway selector that matches no pod", "[analysis][gw]") {
  auto ms = analyzeYaml(gateway("gw", kHttp80, "istio: egressgateway"));
  auto found = withCode(ms, "IST0101");
  REQUIRE(found.size() == 1);
  CHECK(found[0].text == "Referenced selector not found: \"istio=egressgateway\"");
  // With the default ingress gateway not assumed, the usual selector finds nothing either.
  Options options;
  options.assumeIngressGateway = false;
  CHECK(withCode(analyzeYaml(gateway("gw", kHttp80), options), "IST0101").size() == 1);
}

TEST_CASE("IST0101: a TLS secret that does not exist", "[analysis][gw]") {
  const std::string https =
      "  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [bookinfo.example.com]\n"
      "    tls: {mode: SIMPLE, credentialName: bookinfo-cert}\n";
  auto ms = analyzeYaml(gateway("gw", https));
  REQUIRE(withCode(ms, "IST0101").size() == 1);
  CHECK(withCode(ms, "IST0101")[0].text == "Referenced credentialName not found: \"bookinfo-cert\"");
  const std::string secret =
      "apiVersion: v1\nkind: Secret\nmetadata: {name: bookinfo-cert, namespace: istio-system}\n"
      "type: kubernetes.io/tls\n";
  CHECK(withCode(analyzeYaml(secret + gateway("gw", https)), "IST0101").empty());
}

TEST_CASE("IST0162: a gateway port its Service does not expose", "[analysis][gw]") {
  auto ms = analyzeYaml(gateway(
      "gw", "  - port: {number: 8080, name: http, protocol: HTTP}\n    hosts: [\"*\"]\n"));
  auto found = withCode(ms, "IST0162");
  REQUIRE(found.size() == 1);
  CHECK(found[0].text.find("(port 8080)") != std::string::npos);
  CHECK(found[0].text.find("(Pod selector istio=ingressgateway)") != std::string::npos);
}

TEST_CASE("IST0145: two gateways claim one host on one workload and port", "[analysis][gw]") {
  auto ms = analyzeYaml(gateway("a", kHttp80) + gateway("b", kHttp80));
  auto found = withCode(ms, "IST0145");
  REQUIRE(found.size() == 2);
  REQUIRE(withCode(ms, "IST0145", "Gateway a").size() == 1);
  CHECK(withCode(ms, "IST0145", "Gateway a")[0].text ==
        "Conflict with gateways default/b (workload selector istio=ingressgateway, port 80, "
        "hosts [bookinfo.example.com]).");
  const std::string otherHost =
      "  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: [shop.example.com]\n";
  CHECK(withCode(analyzeYaml(gateway("a", kHttp80) + gateway("b", otherHost)), "IST0145").empty());
}

TEST_CASE("IST0138: two gateways share a certificate", "[analysis][gw]") {
  const std::string secret =
      "apiVersion: v1\nkind: Secret\nmetadata: {name: wildcard, namespace: istio-system}\n";
  auto server = [](const std::string& host) {
    return "  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [" + host +
           "]\n    tls: {mode: SIMPLE, credentialName: wildcard}\n";
  };
  auto ms = analyzeYaml(secret + gateway("a", server("a.example.com")) +
                        gateway("b", server("b.example.com")));
  auto found = withCode(ms, "IST0138");
  REQUIRE(found.size() == 2);
  CHECK(found[0].text == "Duplicate certificate in multiple gateways [default/a default/b] may "
                         "cause 404s if HTTP/2 connection coalescing occurs.");
  CHECK(withCode(analyzeYaml(secret + gateway("a", server("a.example.com"))), "IST0138").empty());
}
