#include <catch2/catch.hpp>

#include <optional>

#include "core/model/json.h"
#include "proxy/router/route_table.h"

using namespace mesh;
using namespace mesh::proxy;
using nlohmann::json;

namespace {

core::model::RouteTable table(const char* text) { return json::parse(text).get<core::model::RouteTable>(); }

struct Req {
  std::string method = "GET", authority = "svc", path = "/", query;
  core::http::HeaderMap headers;
  uint32_t port = 80;
  std::map<std::string, std::string> labels;
  std::string ns;
  std::optional<json> claims;
  RouteRequest view() const {
    RouteRequest r;
    r.method = method;
    r.authority = authority;
    r.path = path;
    r.query = query;
    r.headers = &headers;
    r.port = port;
    r.sourceLabels = &labels;
    r.sourceNamespace = ns;
    r.claims = claims ? &*claims : nullptr;
    return r;
  }
};

std::string routeName(const CompiledRouteTable& t, const Req& r) {
  auto m = t.match(r.view());
  return m ? m.route->config->name : "<none>";
}

}  // namespace

TEST_CASE("virtual hosts: exact, *.suffix, prefix* and *, port stripped", "[router]") {
  auto rt = table(R"({"name": "t", "virtualHosts": [
    {"name": "exact", "domains": ["reviews", "Reviews.Default"], "routes": [{"name": "exact", "route": [{"cluster": "c"}]}]},
    {"name": "suffix", "domains": ["*.example.com"], "routes": [{"name": "suffix", "route": [{"cluster": "c"}]}]},
    {"name": "longer", "domains": ["*.api.example.com"], "routes": [{"name": "longer", "route": [{"cluster": "c"}]}]},
    {"name": "prefix", "domains": ["internal.*"], "routes": [{"name": "prefix", "route": [{"cluster": "c"}]}]},
    {"name": "any", "domains": ["*"], "routes": [{"name": "any", "route": [{"cluster": "c"}]}]}]})");
  auto t = CompiledRouteTable::compile(rt);
  REQUIRE(t.ok());
  Req r;
  r.authority = "reviews";
  CHECK(routeName(**t, r) == "exact");
  r.authority = "reviews:9080";
  CHECK(routeName(**t, r) == "exact");
  r.authority = "REVIEWS.default";
  CHECK(routeName(**t, r) == "exact");
  r.authority = "a.example.com";
  CHECK(routeName(**t, r) == "suffix");
  r.authority = "v1.api.example.com";
  CHECK(routeName(**t, r) == "longer");
  r.authority = "internal.corp";
  CHECK(routeName(**t, r) == "prefix");
  r.authority = "example.com";
  CHECK(routeName(**t, r) == "any");
}

TEST_CASE("every match kind, first match wins", "[router]") {
  auto rt = table(R"({"name": "t", "virtualHosts": [{"name": "v", "domains": ["svc"], "routes": [
    {"name": "uri-exact", "match": [{"uri": {"kind": "exact", "value": "/exact"}}], "route": [{"cluster": "c"}]},
    {"name": "uri-icase", "match": [{"uri": {"kind": "prefix", "value": "/Case"}, "ignoreUriCase": true}], "route": [{"cluster": "c"}]},
    {"name": "uri-regex", "match": [{"uri": {"kind": "regex", "value": "/r/[0-9]+"}}], "route": [{"cluster": "c"}]},
    {"name": "method", "match": [{"method": {"kind": "exact", "value": "DELETE"}}], "route": [{"cluster": "c"}]},
    {"name": "authority", "match": [{"authority": {"kind": "prefix", "value": "svc:81"}}], "route": [{"cluster": "c"}]},
    {"name": "header", "match": [{"headers": {"End-User": {"kind": "regex", "value": "j.*n"}}}], "route": [{"cluster": "c"}]},
    {"name": "without", "match": [{"uri": {"kind": "prefix", "value": "/w"}, "withoutHeaders": {"x-canary": {"kind": "exact", "value": "1"}}}], "route": [{"cluster": "c"}]},
    {"name": "query", "match": [{"queryParams": {"v": {"kind": "exact", "value": "2"}}}], "route": [{"cluster": "c"}]},
    {"name": "port", "match": [{"port": 9090}], "route": [{"cluster": "c"}]},
    {"name": "labels", "match": [{"sourceLabels": {"app": "web"}, "sourceNamespace": "prod"}], "route": [{"cluster": "c"}]},
    {"name": "scheme", "match": [{"scheme": {"kind": "exact", "value": "https"}}], "route": [{"cluster": "c"}]},
    {"name": "either", "match": [{"uri": {"kind": "exact", "value": "/one"}}, {"uri": {"kind": "exact", "value": "/two"}}], "route": [{"cluster": "c"}]},
    {"name": "fallback", "route": [{"cluster": "c"}]}]}]})");
  auto compiled = CompiledRouteTable::compile(rt);
  REQUIRE(compiled.ok());
  const auto& t = **compiled;
  Req r;
  r.path = "/exact";
  CHECK(routeName(t, r) == "uri-exact");
  r.path = "/exact/more";
  CHECK(routeName(t, r) == "fallback");
  r.path = "/cASE/x";
  CHECK(routeName(t, r) == "uri-icase");
  r.path = "/r/123";
  CHECK(routeName(t, r) == "uri-regex");
  r.path = "/r/12a";
  CHECK(routeName(t, r) == "fallback");
  r.path = "/";
  r.method = "DELETE";
  CHECK(routeName(t, r) == "method");
  r.method = "GET";
  r.authority = "svc:8181";
  CHECK(routeName(t, r) == "authority");  // the virtual host matched without the port
  r.authority = "svc";
  r.headers.add("end-user", "jason");
  CHECK(routeName(t, r) == "header");
  r.headers.clear();
  r.path = "/w";
  CHECK(routeName(t, r) == "without");
  r.headers.add("x-canary", "1");
  CHECK(routeName(t, r) == "fallback");
  r.headers.clear();
  r.path = "/";
  r.query = "a=1&v=2";
  CHECK(routeName(t, r) == "query");
  r.query = "v=20";
  CHECK(routeName(t, r) == "fallback");
  r.query.clear();
  r.port = 9090;
  CHECK(routeName(t, r) == "port");
  r.port = 80;
  r.labels = {{"app", "web"}};
  CHECK(routeName(t, r) == "fallback");  // namespace missing
  r.ns = "prod";
  CHECK(routeName(t, r) == "labels");
  r.labels.clear();
  r.path = "/two";
  CHECK(routeName(t, r) == "either");
}

TEST_CASE("JWT claims route as Istio's @request.auth.claims headers do", "[router]") {
  auto rt = table(R"({"name": "t", "virtualHosts": [{"name": "v", "domains": ["svc"], "routes": [
    {"name": "admins", "match": [{"headers": {"@request.auth.claims.groups": {"kind": "exact", "value": "admin"}}}], "route": [{"cluster": "c"}]},
    {"name": "team", "match": [{"headers": {"@request.auth.claims.org.Team": {"kind": "prefix", "value": "blue"}}}], "route": [{"cluster": "c"}]},
    {"name": "not-beta", "match": [{"uri": {"kind": "prefix", "value": "/b"}, "withoutHeaders": {"@request.auth.claims.beta": {"kind": "exact", "value": "true"}}}], "route": [{"cluster": "c"}]},
    {"name": "fallback", "route": [{"cluster": "c"}]}]}]})");
  auto compiled = CompiledRouteTable::compile(rt);
  REQUIRE(compiled.ok());
  const auto& t = **compiled;
  Req r;
  // Without a validated token there are no claims; a header of that name is not one.
  r.headers.set("@request.auth.claims.groups", "admin");
  CHECK(routeName(t, r) == "fallback");
  // A list claim matches by any element; a nested one by its path, its name's case kept.
  r.claims = json{{"groups", {"dev", "admin"}}};
  CHECK(routeName(t, r) == "admins");
  r.claims = json{{"groups", "dev"}, {"org", {{"Team", "blue-1"}}}};
  CHECK(routeName(t, r) == "team");
  r.claims = json{{"org", {{"team", "blue-1"}}}};
  CHECK(routeName(t, r) == "fallback");
  // withoutHeaders on a claim: a boolean claim compares as its JSON text.
  r.path = "/beta";
  r.claims = json{{"beta", true}};
  CHECK(routeName(t, r) == "fallback");
  r.claims = json{{"beta", false}};
  CHECK(routeName(t, r) == "not-beta");
  r.claims.reset();
  CHECK(routeName(t, r) == "not-beta");
}

TEST_CASE("a bad regex is refused at compile time with its text", "[router]") {
  auto rt = table(R"({"name": "t", "virtualHosts": [{"name": "v", "domains": ["*"], "routes": [
    {"match": [{"uri": {"kind": "regex", "value": "/(unclosed"}}], "route": [{"cluster": "c"}]}]}]})");
  auto compiled = CompiledRouteTable::compile(rt);
  REQUIRE_FALSE(compiled.ok());
  CHECK_THAT(compiled.status().message(), Catch::Contains("/(unclosed"));
}

TEST_CASE("weighted clusters split by weight", "[router]") {
  auto rt = table(R"({"name": "t", "virtualHosts": [{"name": "v", "domains": ["*"], "routes": [
    {"route": [{"cluster": "a", "weight": 80}, {"cluster": "b", "weight": 20}]}]}]})");
  auto compiled = CompiledRouteTable::compile(rt);
  REQUIRE(compiled.ok());
  auto m = (*compiled)->match(Req{}.view());
  REQUIRE(m);
  int a = 0;
  for (uint64_t dice = 0; dice < 100; ++dice) {
    a += CompiledRouteTable::pickCluster(*m.route, dice).cluster == "a" ? 1 : 0;
  }
  CHECK(a == 80);
}

TEST_CASE("rewrite replaces the matched prefix, or the path by regex", "[router]") {
  auto rt = table(R"({"name": "t", "virtualHosts": [{"name": "v", "domains": ["*"], "routes": [
    {"match": [{"uri": {"kind": "prefix", "value": "/v1/"}}], "route": [{"cluster": "c"}], "rewrite": {"uri": "/api/"}},
    {"match": [{"uri": {"kind": "prefix", "value": "/re/"}}], "route": [{"cluster": "c"}],
     "rewrite": {"uriRegex": "^/re/([a-z]+)/(.*)$", "uriRegexRewrite": "/$2/$1"}}]}]})");
  auto compiled = CompiledRouteTable::compile(rt);
  REQUIRE(compiled.ok());
  Req r;
  r.path = "/v1/items";
  auto m = (*compiled)->match(r.view());
  REQUIRE(m);
  CHECK(rewritePath(*m.route, m.match, "/v1/items?x=1") == "/api/items?x=1");
  r.path = "/re/abc/def";
  m = (*compiled)->match(r.view());
  REQUIRE(m);
  CHECK(rewritePath(*m.route, m.match, "/re/abc/def") == "/def/abc");
}
