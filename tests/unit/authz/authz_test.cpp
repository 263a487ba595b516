// The authorization engine against Istio's documented semantics, one table row per rule of
// the reference: fields and their `not` twins, wildcards, `when` keys, evaluation order,
// defaults and TCP handling. tests/integration/authz_test.py runs the same kind of table
// through real sidecars.
#include <catch2/catch.hpp>

#include "proxy/authz/engine.h"

using namespace mesh::proxy::authz;
using nlohmann::json;

namespace {

constexpr const char* kSleep = "cluster.local/ns/foo/sa/sleep";

struct Request {
  bool http = true;
  std::string principal = kSleep;
  std::string ip = "10.0.0.5";
  uint32_t port = 9080;
  std::string host = "reviews:9080", method = "GET", path = "/api/v1";
  std::string requestPrincipal;
  json claims;
  std::string sni;
  mesh::core::http::HeaderMap headers;

  Attributes view() const {
    Attributes a;
    a.http = http;
    a.principal = principal;
    a.sourceIp = a.remoteIp = IpAddress::parse(ip);
    a.destinationIp = IpAddress::parse("10.0.1.1");
    a.destinationPort = port;
    a.sni = sni;
    a.host = host;
    a.method = method;
    a.path = path;
    a.headers = &headers;
    a.requestPrincipal = requestPrincipal;
    a.claims = claims.is_null() ? nullptr : &claims;
    return a;
  }
};

json policy(const char* name, const std::string& spec) {
  return {{"name", name}, {"namespace", "bar"}, {"spec", json::parse(spec)}};
}

bool allowed(const std::vector<json>& policies, const Request& r) {
  auto engine = AuthzEngine::compile(json(policies));
  REQUIRE(engine.ok());
  return engine->check(r.view()).allowed;
}

bool allows(const std::string& spec, const Request& r) {
  return allowed({policy("p", spec)}, r);
}

}  // namespace

TEST_CASE("no policy allows; an ALLOW policy with no rules allows nothing") {
  Request r;
  CHECK(allowed({}, r));
  CHECK_FALSE(allows(R"({})", r));
  CHECK_FALSE(allows(R"({"action":"ALLOW","rules":[]})", r));
  CHECK(allows(R"({"rules":[{}]})", r));
  CHECK(allowed({policy("d", R"({"action":"DENY"})")}, r));  // a DENY without rules matches nothing
}

TEST_CASE("source fields and their not twins") {
  Request r;
  CHECK(allows(R"({"rules":[{"from":[{"source":{"principals":["cluster.local/ns/foo/sa/sleep"]}}]}]})", r));
  CHECK_FALSE(allows(R"({"rules":[{"from":[{"source":{"principals":["cluster.local/ns/foo/sa/other"]}}]}]})", r));
  CHECK(allows(R"({"rules":[{"from":[{"source":{"notPrincipals":["cluster.local/ns/foo/sa/other"]}}]}]})", r));
  CHECK_FALSE(allows(R"({"rules":[{"from":[{"source":{"notPrincipals":["*/sa/sleep"]}}]}]})", r));
  CHECK(allows(R"({"rules":[{"from":[{"source":{"principals":["cluster.local/ns/foo/*"]}}]}]})", r));
  CHECK(allows(R"({"rules":[{"from":[{"source":{"namespaces":["foo"]}}]}]})", r));
  CHECK_FALSE(allows(R"({"rules":[{"from":[{"source":{"namespaces":["bar"]}}]}]})", r));
  CHECK_FALSE(allows(R"({"rules":[{"from":[{"source":{"notNamespaces":["foo"]}}]}]})", r));
  CHECK(allows(R"({"rules":[{"from":[{"source":{"ipBlocks":["10.0.0.0/24"]}}]}]})", r));
  CHECK_FALSE(allows(R"({"rules":[{"from":[{"source":{"ipBlocks":["10.0.1.0/24"]}}]}]})", r));
  CHECK_FALSE(allows(R"({"rules":[{"from":[{"source":{"notIpBlocks":["10.0.0.5"]}}]}]})", r));
  CHECK(allows(R"({"rules":[{"from":[{"source":{"remoteIpBlocks":["10.0.0.0/8"]}}]}]})", r));
  CHECK_FALSE(allows(R"({"rules":[{"from":[{"source":{"notRemoteIpBlocks":["10.0.0.0/8"]}}]}]})", r));
}

TEST_CASE("principals need mTLS: '*' means any authenticated peer") {
  Request plain;
  plain.principal = "";
  CHECK_FALSE(allows(R"({"rules":[{"from":[{"source":{"principals":["*"]}}]}]})", plain));
  CHECK(allows(R"({"rules":[{"from":[{"source":{"notPrincipals":["*"]}}]}]})", plain));
  CHECK_FALSE(allows(R"({"rules":[{"from":[{"source":{"namespaces":["*"]}}]}]})", plain));
  Request r;
  CHECK(allows(R"({"rules":[{"from":[{"source":{"principals":["*"]}}]}]})", r));
}

TEST_CASE("every field of one source must match; any source of the list may") {
  Request r;
  CHECK_FALSE(allows(R"({"rules":[{"from":[{"source":{"namespaces":["foo"],"ipBlocks":["192.168.0.0/16"]}}]}]})", r));
  CHECK(allows(R"({"rules":[{"from":[{"source":{"namespaces":["nope"]}},{"source":{"ipBlocks":["10.0.0.5/32"]}}]}]})", r));
}

TEST_CASE("operation fields, wildcards and not twins") {
  Request r;
  CHECK(allows(R"({"rules":[{"to":[{"operation":{"methods":["GET","HEAD"]}}]}]})", r));
  CHECK_FALSE(allows(R"({"rules":[{"to":[{"operation":{"methods":["POST"]}}]}]})", r));
  CHECK_FALSE(allows(R"({"rules":[{"to":[{"operation":{"notMethods":["GET"]}}]}]})", r));
  CHECK(allows(R"({"rules":[{"to":[{"operation":{"paths":["/api/*"]}}]}]})", r));
  CHECK(allows(R"({"rules":[{"to":[{"operation":{"paths":["*/v1"]}}]}]})", r));
  CHECK_FALSE(allows(R"({"rules":[{"to":[{"operation":{"paths":["/api"]}}]}]})", r));
  CHECK_FALSE(allows(R"({"rules":[{"to":[{"operation":{"notPaths":["/api/*"]}}]}]})", r));
  CHECK(allows(R"({"rules":[{"to":[{"operation":{"ports":["9080"]}}]}]})", r));
  CHECK_FALSE(allows(R"({"rules":[{"to":[{"operation":{"notPorts":["9080"]}}]}]})", r));
  CHECK(allows(R"({"rules":[{"to":[{"operation":{"hosts":["REVIEWS"]}}]}]})", r));  // case-insensitive, port dropped
  CHECK(allows(R"({"rules":[{"to":[{"operation":{"hosts":["*iews:9080"]}}]}]})", r));
  CHECK(allows(R"({"rules":[{"to":[{"operation":{"hosts":["rev*"]}}]}]})", r));
  CHECK_FALSE(allows(R"({"rules":[{"to":[{"operation":{"notHosts":["reviews"]}}]}]})", r));
}

TEST_CASE("when conditions") {
  Request r;
  r.headers.add("x-token", "admin");
  r.sni = "outbound_.9080_._.reviews.bar.svc.cluster.local";
  CHECK(allows(R"({"rules":[{"when":[{"key":"request.headers[x-token]","values":["admin"]}]}]})", r));
  CHECK_FALSE(allows(R"({"rules":[{"when":[{"key":"request.headers[x-token]","notValues":["adm*"]}]}]})", r));
  CHECK_FALSE(allows(R"({"rules":[{"when":[{"key":"request.headers[x-missing]","values":["*"]}]}]})", r));
  CHECK(allows(R"({"rules":[{"when":[{"key":"source.ip","values":["10.0.0.0/16"]}]}]})", r));
  CHECK(allows(R"({"rules":[{"when":[{"key":"source.namespace","values":["foo"]}]}]})", r));
  CHECK(allows(R"({"rules":[{"when":[{"key":"source.principal","values":["*sleep"]}]}]})", r));
  CHECK(allows(R"({"rules":[{"when":[{"key":"destination.port","values":["9080"]}]}]})", r));
  CHECK_FALSE(allows(R"({"rules":[{"when":[{"key":"destination.port","notValues":["9080"]}]}]})", r));
  CHECK(allows(R"({"rules":[{"when":[{"key":"destination.ip","values":["10.0.1.0/24"]}]}]})", r));
  CHECK(allows(R"({"rules":[{"when":[{"key":"connection.sni","values":["*.svc.cluster.local"]}]}]})", r));
  // every condition must hold
  CHECK_FALSE(allows(R"({"rules":[{"when":[{"key":"source.namespace","values":["foo"]},
                                          {"key":"destination.port","values":["80"]}]}]})", r));
}

TEST_CASE("request.auth attributes come from the validated JWT") {
  Request r;
  CHECK_FALSE(allows(R"({"rules":[{"from":[{"source":{"requestPrincipals":["*"]}}]}]})", r));
  r.requestPrincipal = "https://issuer.example/alice";
  r.claims = json::parse(R"({"iss":"https://issuer.example","sub":"alice","aud":["web","api"],
                             "azp":"cli","groups":["dev","ops"],"org":{"team":"blue"}})");
  CHECK(allows(R"({"rules":[{"from":[{"source":{"requestPrincipals":["*"]}}]}]})", r));
  CHECK(allows(R"({"rules":[{"from":[{"source":{"requestPrincipals":["https://issuer.example/*"]}}]}]})", r));
  CHECK_FALSE(allows(R"({"rules":[{"from":[{"source":{"notRequestPrincipals":["*alice"]}}]}]})", r));
  CHECK(allows(R"({"rules":[{"when":[{"key":"request.auth.principal","values":["https://issuer.example/alice"]}]}]})", r));
  CHECK(allows(R"({"rules":[{"when":[{"key":"request.auth.audiences","values":["api"]}]}]})", r));
  CHECK(allows(R"({"rules":[{"when":[{"key":"request.auth.presenter","values":["cli"]}]}]})", r));
  CHECK(allows(R"({"rules":[{"when":[{"key":"request.auth.claims[groups]","values":["ops"]}]}]})", r));
  CHECK_FALSE(allows(R"({"rules":[{"when":[{"key":"request.auth.claims[groups]","notValues":["ops"]}]}]})", r));
  CHECK(allows(R"({"rules":[{"when":[{"key":"request.auth.claims[org][team]","values":["blue"]}]}]})", r));
}

TEST_CASE("DENY wins over ALLOW; any ALLOW policy makes the rest denied") {
  Request r;
  auto allowAll = policy("allow-all", R"({"rules":[{}]})");
  auto denyGet = policy("deny-get", R"({"action":"DENY","rules":[{"to":[{"operation":{"methods":["GET"]}}]}]})");
  auto allowPost = policy("allow-post", R"({"rules":[{"to":[{"operation":{"methods":["POST"]}}]}]})");
  CHECK_FALSE(allowed({allowAll, denyGet}, r));
  CHECK_FALSE(allowed({allowPost}, r));
  r.method = "POST";
  CHECK(allowed({allowAll, denyGet}, r));
  CHECK(allowed({allowPost}, r));
  auto engine = AuthzEngine::compile(json::array({allowAll, denyGet}));
  r.method = "GET";
  CHECK(engine->check(r.view()).policy == "bar.deny-get");
}

TEST_CASE("AUDIT records a match and never decides") {
  Request r;
  auto engine = AuthzEngine::compile(json::array(
      {policy("audit", R"({"action":"AUDIT","rules":[{"to":[{"operation":{"paths":["/api/*"]}}]}]})")}));
  REQUIRE(engine.ok());
  auto d = engine->check(r.view());
  CHECK(d.allowed);
  CHECK(d.audit == "bar.audit");
}

TEST_CASE("on TCP, ALLOW rules with HTTP-only fields never match and DENY ignores those fields") {
  Request tcp;
  tcp.http = false;
  CHECK_FALSE(allows(R"({"rules":[{"to":[{"operation":{"methods":["GET"]}}]}]})", tcp));
  CHECK(allows(R"({"rules":[{"to":[{"operation":{"ports":["9080"]}}]}]})", tcp));
  CHECK_FALSE(allows(R"({"action":"DENY","rules":[{"to":[{"operation":{"methods":["POST"]}}]}]})", tcp));
  CHECK(allows(R"({"action":"DENY","rules":[{"to":[{"operation":{"methods":["POST"],"ports":["3306"]}}]}]})", tcp));
}

TEST_CASE("policies Istio would reject are errors naming the field") {
  auto bad = [](const std::string& spec) {
    auto engine = AuthzEngine::compile(json::array({policy("p", spec)}));
    REQUIRE_FALSE(engine.ok());
    return engine.status().message();
  };
  CHECK(bad(R"({"action":"CUSTOM","provider":{"name":"ext"}})").find("CUSTOM") != std::string::npos);
  CHECK(bad(R"({"action":"MAYBE"})") == "AuthorizationPolicy bar/p: action: unknown value \"MAYBE\"");
  CHECK(bad(R"({"rules":[{"from":[{"source":{"ipBlocks":["10.0.0.0/33"]}}]}]})") ==
        "AuthorizationPolicy bar/p: rules[0].from[0].source.ipBlocks[0]: \"10.0.0.0/33\" is not an IP address or CIDR block");
  CHECK(bad(R"({"rules":[{"to":[{"operation":{"ports":["http"]}}]}]})").find("ports[0]") != std::string::npos);
  CHECK(bad(R"({"rules":[{"to":[{"operation":{"verbs":["GET"]}}]}]})").find("verbs: unknown field") != std::string::npos);
  CHECK(bad(R"({"rules":[{"when":[{"key":"request.magic","values":["x"]}]}]})").find("unknown key") != std::string::npos);
  CHECK(bad(R"({"rules":[{"when":[{"key":"source.ip"}]}]})").find("needs values or notValues") != std::string::npos);
  CHECK(bad(R"({"rules":[{"from":[{"source":{}}]}]})").find("at least one field") != std::string::npos);
}

TEST_CASE("IPv6 blocks and IPv4-mapped addresses") {
  auto block = IpBlock::parse("2001:db8::/32");
  REQUIRE(block);
  CHECK(block->contains(*IpAddress::parse("2001:db8:1::7")));
  CHECK_FALSE(block->contains(*IpAddress::parse("2001:db9::1")));
  CHECK(IpBlock::parse("10.0.0.0/8")->contains(*IpAddress::parse("::ffff:10.2.3.4")));
  CHECK_FALSE(IpBlock::parse("10.0.0.0/8/1"));
  CHECK_FALSE(IpBlock::parse("nonsense"));
}
