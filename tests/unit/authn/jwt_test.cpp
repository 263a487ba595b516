// RequestAuthentication's JWT checks with keys made here: each accepted algorithm, every
// refusal reason, token locations and what a passing token does to the headers, JWKS
// parsing, rule compilation errors, and keys fetched from a jwksUri served on loopback,
// rotated while the authenticator runs.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <mutex>
#include <thread>

#include "proxy/authn/jwt_authenticator.h"
#include "tests/unit/authn/signer.h"

using namespace mesh::proxy::authn;
using mesh::core::http::HeaderMap;
using mesh::test::Signer;
using nlohmann::json;

namespace {

constexpr const char* kIssuer = "https://issuer.example.com";
const int64_t kNow = 1790000000;

// One RequestAuthentication resource with the given jwtRules.
json resources(json rules) {
  return json::array({{{"name", "jwt"}, {"namespace", "foo"}, {"spec", {{"jwtRules", rules}}}}});
}

json inlineRule(const std::string& jwks, json extra = json::object()) {
  json r = {{"issuer", kIssuer}, {"jwks", jwks}};
  r.update(extra);
  return r;
}

JwtAuthenticator compile(json rules, JwksFetcher* fetcher = nullptr) {
  auto a = JwtAuthenticator::compile(resources(std::move(rules)), fetcher);
  REQUIRE(a.ok());
  return std::move(*a);
}

json claims(json extra = json::object()) {
  json c = {{"iss", kIssuer}, {"sub", "alice"}, {"exp", kNow + 3600}, {"iat", kNow},
            {"groups", {"admins", "dev"}}};
  c.update(extra);
  return c;
}

struct Outcome {
  AuthnResult result;
  HeaderMap headers;
};

Outcome run(const JwtAuthenticator& a, const std::string& token,
            const std::string& header = "authorization", const std::string& prefix = "Bearer ",
            std::string_view query = "", int64_t now = kNow) {
  Outcome o;
  if (!token.empty()) o.headers.add(header, prefix + token);
  o.headers.add("x-other", "kept");
  o.result = a.authenticate(o.headers, query, now);
  return o;
}

JwtFailure failure(const JwtAuthenticator& a, const std::string& token, int64_t now = kNow) {
  auto o = run(a, token, "authorization", "Bearer ", "", now);
  REQUIRE(o.result.tokenFound);
  return o.result.failure;
}

}  // namespace

TEST_CASE("a valid token of each algorithm passes and names its principal") {
  for (auto kind : {Signer::es256, Signer::rs256, Signer::edDsa}) {
    Signer key(kind, "k1");
    INFO(key.alg());
    auto a = compile(json::array({inlineRule(mesh::test::jwksOf({&key}))}));
    auto o = run(a, key.token(claims()));
    CHECK(o.result.authenticated());
    CHECK(o.result.principal == std::string(kIssuer) + "/alice");
    REQUIRE(o.result.claims);
    CHECK((*o.result.claims)["groups"][0] == "admins");
    // Not forwarded by default: the app never sees the token.
    CHECK_FALSE(o.headers.has("authorization"));
    CHECK(o.headers.get("x-other") == "kept");
  }
}

TEST_CASE("each refusal has its reason") {
  Signer key(Signer::es256, "k1"), other(Signer::es256, "k1"), rsa(Signer::rs256, "r1");
  auto a = compile(json::array({inlineRule(mesh::test::jwksOf({&key, &rsa}),
                                           {{"audiences", {"bookinfo", "reviews"}}})}));
  json aud = {{"aud", "reviews"}};
  SECTION("valid with an accepted audience") { CHECK(failure(a, key.token(claims(aud))) == JwtFailure::none); }
  SECTION("aud as a list, any one accepted") {
    CHECK(failure(a, key.token(claims({{"aud", {"x", "bookinfo"}}}))) == JwtFailure::none);
  }
  SECTION("expired, past the 60 s of skew") {
    CHECK(failure(a, key.token(claims({{"aud", "reviews"}, {"exp", kNow - 61}}))) == JwtFailure::expired);
    CHECK(failure(a, key.token(claims({{"aud", "reviews"}, {"exp", kNow - 59}}))) == JwtFailure::none);
  }
  SECTION("not yet valid, past the skew") {
    CHECK(failure(a, key.token(claims({{"aud", "reviews"}, {"nbf", kNow + 61}}))) == JwtFailure::notYetValid);
    CHECK(failure(a, key.token(claims({{"aud", "reviews"}, {"nbf", kNow + 59}}))) == JwtFailure::none);
  }
  SECTION("wrong issuer") {
    CHECK(failure(a, key.token(claims({{"aud", "reviews"}, {"iss", "https://evil.example.com"}}))) ==
          JwtFailure::unknownIssuer);
  }
  SECTION("wrong audience, or none") {
    CHECK(failure(a, key.token(claims({{"aud", "ratings"}}))) == JwtFailure::audience);
    CHECK(failure(a, key.token(claims())) == JwtFailure::audience);
  }
  SECTION("signed by another key under the same kid") {
    CHECK(failure(a, other.token(claims(aud))) == JwtFailure::badSignature);
  }
  SECTION("payload changed after signing") {
    std::string t = key.token(claims(aud));
    std::string forged = mesh::test::b64(claims({{"aud", "reviews"}, {"sub", "root"}}).dump());
    size_t d1 = t.find('.'), d2 = t.rfind('.');
    CHECK(failure(a, t.substr(0, d1 + 1) + forged + t.substr(d2)) == JwtFailure::badSignature);
  }
  SECTION("unknown kid") {
    CHECK(failure(a, key.token(claims(aud), {{"kid", "nope"}})) == JwtFailure::unknownKid);
  }
  SECTION("alg that does not fit the key the kid names") {
    CHECK(failure(a, key.token(claims(aud), {{"kid", "r1"}})) == JwtFailure::unknownKid);
    CHECK(failure(a, key.token(claims(aud), {{"alg", "RS256"}})) == JwtFailure::unknownKid);
  }
  SECTION("alg none or HS256 is never accepted") {
    std::string t = key.token(claims(aud), {{"alg", "none"}});
    CHECK(failure(a, t) == JwtFailure::unknownKid);
    CHECK(failure(a, t.substr(0, t.rfind('.') + 1)) == JwtFailure::malformed);
    CHECK(failure(a, key.token(claims(aud), {{"alg", "HS256"}})) == JwtFailure::unknownKid);
  }
  SECTION("no kid: every key of the algorithm is tried") {
    json h = {{"alg", "ES256"}};
    std::string input = mesh::test::b64(h.dump()) + "." + mesh::test::b64(claims(aud).dump());
    CHECK(failure(a, input + "." + mesh::test::b64(key.sign(input))) == JwtFailure::none);
  }
  SECTION("malformed") {
    std::string t = key.token(claims(aud));
    for (std::string bad : {std::string("abc"), std::string("a.b"), t + ".x", std::string("..."),
                            std::string("!!!.") + t.substr(t.find('.') + 1),
                            mesh::test::b64("not json") + t.substr(t.find('.')),
                            mesh::test::b64("[1]") + t.substr(t.find('.')),
                            t.substr(0, t.rfind('.') + 1) + "***"}) {
      INFO(bad);
      CHECK(failure(a, bad) == JwtFailure::malformed);
    }
    CHECK(failure(a, key.token(claims({{"aud", "reviews"}, {"exp", "tomorrow"}}))) == JwtFailure::malformed);
    CHECK(failure(a, key.token(claims({{"aud", "reviews"}, {"sub", 7}}))) == JwtFailure::malformed);
  }
}

TEST_CASE("a token seen before is checked again for what can change") {
  Signer key(Signer::es256, "k1");
  auto a = compile(json::array({inlineRule(mesh::test::jwksOf({&key}))}));
  std::string token = key.token(claims({{"exp", kNow + 100}}));
  CHECK(failure(a, token) == JwtFailure::none);
  CHECK(failure(a, token) == JwtFailure::none);
  // Time moves on: the remembered signature does not make it valid.
  CHECK(failure(a, token, kNow + 161) == JwtFailure::expired);
  // Same header and payload, another signature: checked, and refused.
  std::string forged = token.substr(0, token.rfind('.') + 1) + mesh::test::b64(std::string(64, 'x'));
  CHECK(failure(a, forged) == JwtFailure::badSignature);
  // More distinct tokens than are remembered: all still pass.
  for (int i = 0; i < 300; ++i) {
    CHECK(failure(a, key.token(claims({{"jti", i}}))) == JwtFailure::none);
  }
}

TEST_CASE("refusal bodies are Envoy's") {
  CHECK(failureBody(JwtFailure::badSignature) == "Jwt verification fails");
  CHECK(failureBody(JwtFailure::expired) == "Jwt is expired");
  CHECK(failureBody(JwtFailure::unknownKid) == "Jwks doesn't have key to match kid or alg from Jwt");
  CHECK(failureLabel(JwtFailure::notYetValid) == "not_yet_valid");
}

TEST_CASE("where tokens are looked for") {
  Signer key(Signer::edDsa, "e1");
  std::string jwks = mesh::test::jwksOf({&key});
  std::string token = key.token(claims());
  SECTION("no token: passes unauthenticated") {
    auto a = compile(json::array({inlineRule(jwks)}));
    auto o = run(a, "");
    CHECK_FALSE(o.result.tokenFound);
    CHECK(o.result.principal.empty());
    CHECK_FALSE(run(a, token, "authorization", "Basic ").result.tokenFound);
  }
  SECTION("Istio's default: Authorization Bearer, or the access_token parameter") {
    auto a = compile(json::array({inlineRule(jwks)}));
    CHECK(run(a, token, "authorization", "bearer ").result.authenticated());
    auto o = run(a, "", "authorization", "", "a=1&access_token=" + token + "&b=2");
    CHECK(o.result.authenticated());
    CHECK(run(a, "", "authorization", "", "access_token=junk").result.failure == JwtFailure::malformed);
  }
  SECTION("fromHeaders and fromParams replace the default") {
    auto a = compile(json::array({inlineRule(
        jwks, {{"fromHeaders", {{{"name", "x-jwt"}, {"prefix", "Token "}}}}, {"fromParams", {"jwt"}}})}));
    CHECK_FALSE(run(a, token).result.tokenFound);
    CHECK(run(a, token, "x-jwt", "Token ").result.authenticated());
    CHECK(run(a, "", "x", "", "jwt=" + token).result.authenticated());
    CHECK_FALSE(run(a, token, "x-jwt", "Bearer ").result.tokenFound);
  }
  SECTION("forwardOriginalToken keeps the header; outputs are set") {
    auto a = compile(json::array({inlineRule(
        jwks, {{"forwardOriginalToken", true}, {"outputPayloadToHeader", "x-jwt-payload"},
               {"outputClaimToHeaders", {{{"header", "x-sub"}, {"claim", "sub"}},
                                         {{"header", "x-exp"}, {"claim", "exp"}},
                                         {{"header", "x-none"}, {"claim", "missing"}}}}})}));
    auto o = run(a, token);
    REQUIRE(o.result.authenticated());
    CHECK(o.headers.get("authorization") == "Bearer " + token);
    auto payload = mesh::core::base64UrlDecode(*o.headers.get("x-jwt-payload"));
    REQUIRE(payload);
    CHECK(json::parse(*payload) == claims());
    CHECK(o.headers.get("x-sub") == "alice");
    CHECK(o.headers.get("x-exp") == std::to_string(kNow + 3600));
    CHECK_FALSE(o.headers.has("x-none"));
    // A client cannot plant them: without a valid token they are removed, not passed on.
    HeaderMap forged;
    forged.add("x-sub", "admin");
    forged.add("x-jwt-payload", "e30");
    auto none = a.authenticate(forged, "", kNow);
    CHECK_FALSE(none.tokenFound);
    CHECK_FALSE(forged.has("x-sub"));
    CHECK_FALSE(forged.has("x-jwt-payload"));
  }
  SECTION("two issuers on the same header: each token goes to its own rule") {
    Signer second(Signer::es256, "s1");
    auto a = compile(json::array(
        {inlineRule(jwks), {{"issuer", "other"}, {"jwks", mesh::test::jwksOf({&second})}}}));
    CHECK(run(a, token).result.authenticated());
    auto o = run(a, second.token(claims({{"iss", "other"}})));
    CHECK(o.result.authenticated());
    CHECK(o.result.principal == "other/alice");
    // A token of the second issuer signed by the first issuer's key says so, not "issuer".
    CHECK(failure(a, key.token(claims({{"iss", "other"}}), {{"kid", "s1"}})) == JwtFailure::unknownKid);
  }
}

TEST_CASE("JWKS parsing") {
  Signer ec(Signer::es256, "a"), rsa(Signer::rs256, "b"), ed(Signer::edDsa, "c");
  auto set = Jwks::parse(mesh::test::jwksOf({&ec, &rsa, &ed}));
  REQUIRE(set.ok());
  CHECK((*set)->keys().size() == 3);
  SECTION("keys of other types are skipped") {
    json doc = json::parse(mesh::test::jwksOf({&ec}));
    doc["keys"].push_back({{"kty", "oct"}, {"k", "c2VjcmV0"}});
    doc["keys"].push_back({{"kty", "RSA"}, {"alg", "PS256"}, {"n", "AQAB"}, {"e", "AQAB"}});
    auto parsed = Jwks::parse(doc.dump());
    REQUIRE(parsed.ok());
    CHECK((*parsed)->keys().size() == 1);
  }
  SECTION("errors") {
    CHECK(Jwks::parse("nope").status().message() == "jwks: not JSON");
    CHECK(Jwks::parse("{}").status().message() == "jwks: no \"keys\" list");
    CHECK(Jwks::parse(R"({"keys":[{"kty":"oct"}]})").status().message() ==
          "jwks: no ES256, RS256 or EdDSA key");
    json badPoint = ec.jwk();
    badPoint["y"] = badPoint["x"];
    CHECK(Jwks::parse(json{{"keys", {badPoint}}}.dump()).status().message() ==
          "jwks: keys[0]: EC key: the point is not on P-256");
    json small = rsa.jwk();
    small["n"] = mesh::test::b64(std::string(128, '\x7f'));
    CHECK(Jwks::parse(json{{"keys", {small}}}.dump()).status().message().find("1023 bits") !=
          std::string::npos);
    // A published set: the odd key is skipped, the others stay usable.
    size_t skipped = 0;
    auto lenient = Jwks::parse(json{{"keys", {small, badPoint, ed.jwk()}}}.dump(), false, &skipped);
    REQUIRE(lenient.ok());
    CHECK((*lenient)->keys().size() == 1);
    CHECK(skipped == 2);
  }
}

TEST_CASE("rule compilation refuses what cannot be enforced, naming the place") {
  Signer key(Signer::es256, "k");
  std::string jwks = mesh::test::jwksOf({&key});
  auto error = [](json rules) {
    auto a = JwtAuthenticator::compile(resources(std::move(rules)), nullptr);
    REQUIRE_FALSE(a.ok());
    return a.status().message();
  };
  CHECK(error(json::array({{{"jwks", jwks}}})) ==
        "requestAuthentications[0] (foo/jwt): jwtRules[0]: issuer is required");
  CHECK(error(json::array({inlineRule(jwks), {{"issuer", "x"}}})) ==
        "requestAuthentications[0] (foo/jwt): jwtRules[1]: jwks or jwksUri is required (keys "
        "are not discovered from the issuer)");
  CHECK(error(json::array({{{"issuer", "x"}, {"jwksUri", "ftp://keys"}}})).find("not an http(s) URL") !=
        std::string::npos);
  CHECK(error(json::array({inlineRule("{")})).find("jwks: not JSON") != std::string::npos);
  CHECK(error(json::array({inlineRule(jwks, {{"fromCookies", {"session"}}})})).find(
            "fromCookies is not supported") != std::string::npos);
  CHECK(error(json::array({inlineRule(jwks, {{"audiences", {""}}})})).find("audiences") !=
        std::string::npos);
  auto empty = JwtAuthenticator::compile(json::array(), nullptr);
  REQUIRE(empty.ok());
  CHECK(empty->empty());
}

TEST_CASE("jwksUri without keys yet refuses tokens") {
  Signer key(Signer::es256, "k");
  auto a = compile(json::array({{{"issuer", kIssuer}, {"jwksUri", "http://127.0.0.1:1/keys"}}}));
  CHECK(failure(a, key.token(claims())) == JwtFailure::noJwks);
}

TEST_CASE("JwksUrl") {
  auto u = JwksUrl::parse("https://keys.example.com/a/jwks.json?x=1#frag");
  REQUIRE(u);
  CHECK(u->tls);
  CHECK(u->host == "keys.example.com");
  CHECK(u->port == 443);
  CHECK(u->path == "/a/jwks.json?x=1");
  u = JwksUrl::parse("http://[::1]:8080");
  REQUIRE(u);
  CHECK(u->host == "::1");
  CHECK(u->port == 8080);
  CHECK(u->path == "/");
  CHECK_FALSE(JwksUrl::parse("http://host:99999/"));
  CHECK_FALSE(JwksUrl::parse("http://user@host/"));
  CHECK_FALSE(JwksUrl::parse("file:///etc/keys"));
}

namespace {

// An HTTP server on loopback answering every request with the current body.
class KeyServer {
 public:
  KeyServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    REQUIRE(::listen(fd_, 16) == 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~KeyServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/jwks"; }
  void set(std::string body) {
    std::lock_guard lock(mutex_);
    body_ = std::move(body);
  }
  int hits() const { return hits_; }

 private:
  void serve() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buffer[4096];
      std::string request;
      while (request.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(c, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        request.append(buffer, static_cast<size_t>(n));
      }
      std::string body;
      {
        std::lock_guard lock(mutex_);
        body = body_;
      }
      ++hits_;
      std::string answer = "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + body;
      ::send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> hits_{0};
  std::mutex mutex_;
  std::string body_;
  std::thread thread_;
};

// Waits up to 5 s for `done`.
template <typename Fn>
bool eventually(Fn done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace

TEST_CASE("keys fetched from jwksUri, refreshed, and rotated") {
  Signer oldKey(Signer::rs256, "old"), newKey(Signer::es256, "new");
  KeyServer server;
  server.set(mesh::test::jwksOf({&oldKey}));
  mesh::core::metrics::Registry registry;
  JwksFetcher fetcher(registry, {std::chrono::milliseconds(200), std::chrono::milliseconds(2000)});
  auto a = compile(json::array({{{"issuer", kIssuer}, {"jwksUri", server.url()}}}), &fetcher);
  auto now = static_cast<int64_t>(std::time(nullptr));
  json c = claims({{"exp", now + 600}});
  CHECK(eventually([&] { return failure(a, oldKey.token(c), now) == JwtFailure::none; }));
  CHECK(failure(a, newKey.token(c), now) == JwtFailure::unknownKid);
  // The issuer rotates: the old kid is gone, the new one is there.
  server.set(mesh::test::jwksOf({&newKey}));
  CHECK(eventually([&] { return failure(a, newKey.token(c), now) == JwtFailure::none; }));
  CHECK(failure(a, oldKey.token(c), now) == JwtFailure::unknownKid);
  // A broken document keeps the last good keys.
  server.set("<html>oops</html>");
  int before = server.hits();
  CHECK(eventually([&] { return server.hits() >= before + 2; }));
  CHECK(failure(a, newKey.token(c), now) == JwtFailure::none);
  CHECK(registry.render().find("mesh_proxy_jwks_fetch_total{result=\"error\"}") != std::string::npos);
  // A second config naming the same URI shares the keys already fetched.
  auto b = compile(json::array({{{"issuer", kIssuer}, {"jwksUri", server.url()}}}), &fetcher);
  CHECK(failure(b, newKey.token(c), now) == JwtFailure::none);
}

TEST_CASE("an unreachable jwksUri leaves tokens refused and the fetcher stops promptly") {
  Signer key(Signer::es256, "k");
  mesh::core::metrics::Registry registry;
  auto started = std::chrono::steady_clock::now();
  {
    JwksFetcher fetcher(registry, {std::chrono::milliseconds(200), std::chrono::milliseconds(500)});
    // Port 1 on loopback: refused at once.
    auto a = compile(json::array({{{"issuer", kIssuer}, {"jwksUri", "http://127.0.0.1:1/k"}}}),
                     &fetcher);
    CHECK(eventually([&] {
      return registry.render().find("mesh_proxy_jwks_fetch_total{result=\"error\"} 1") !=
             std::string::npos;
    }));
    CHECK(failure(a, key.token(claims())) == JwtFailure::noJwks);
  }
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(4));
}
