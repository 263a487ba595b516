#include <catch2/catch.hpp>

#include "cmd/echo/answer.h"
#include "cmd/echo/url.h"

namespace echo = mesh::cmd::echo;

TEST_CASE("call URLs") {
  auto url = echo::parseHttpUrl("http://reviews:9080/reviews/0?x=1#frag");
  REQUIRE(url.ok());
  CHECK(url->host == "reviews");
  CHECK(url->port == 9080);
  CHECK(url->authority == "reviews:9080");
  CHECK(url->target == "/reviews/0?x=1");
  CHECK(url->absolute() == "http://reviews:9080/reviews/0?x=1");
  auto bare = echo::parseHttpUrl("http://details");
  REQUIRE(bare.ok());
  CHECK(bare->port == 80);
  CHECK(bare->target == "/");
  auto query = echo::parseHttpUrl("http://[::1]:81?a");
  REQUIRE(query.ok());
  CHECK(query->host == "::1");
  CHECK(query->target == "/?a");
  for (const char* bad : {"https://x/", "http://", "http://user@x/", "http://x:0/",
                          "http://x:99999/", "http://x/a b", "ftp://x", "http://x y/"}) {
    INFO(bad);
    CHECK_FALSE(echo::parseHttpUrl(bad).ok());
  }
}

TEST_CASE("http_proxy as curl reads it") {
  auto none = echo::parseProxy("");
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  auto full = echo::parseProxy("http://127.0.0.1:15001/");
  REQUIRE(full.ok());
  CHECK((*full)->host == "127.0.0.1");
  CHECK((*full)->port == 15001);
  auto bare = echo::parseProxy("proxy.local");
  REQUIRE(bare.ok());
  CHECK((*bare)->port == 1080);
  CHECK_FALSE(echo::parseProxy("socks5://x:1").ok());
}

TEST_CASE("the caller's identity from x-forwarded-client-cert") {
  CHECK(echo::peerIdentity("By=spiffe://cluster.local/ns/default/sa/reviews;"
                           "URI=spiffe://cluster.local/ns/default/sa/productpage") ==
        "spiffe://cluster.local/ns/default/sa/productpage");
  // Several elements: the last is the hop next to us; values may be quoted; keys any case.
  CHECK(echo::peerIdentity(
            "URI=spiffe://td/ns/a/sa/first,By=x;Hash=\"a;b,c\";uri=\"spiffe://td/ns/b/sa/last\"") ==
        "spiffe://td/ns/b/sa/last");
  CHECK(echo::peerIdentity("").empty());
  CHECK(echo::peerIdentity("By=spiffe://td/ns/a/sa/b").empty());
}

TEST_CASE("the answer nests the callees' answers and reports failures") {
  echo::Identity self{"productpage", "v1", "productpage-v1-0", "default"};
  echo::IncomingRequest request{"GET", "productpage:9080", "/productpage?u=1",
                                "By=x;URI=spiffe://cluster.local/ns/istio-system/sa/gw", "id-1"};
  std::vector<echo::CallOutcome> calls = {
      {"http://reviews:9080/reviews/0",
       {200, R"({"service":"reviews","version":"v2","calls":[]})", "application/json", ""}},
      {"http://details:9080/details/0", {0, "", "", "connecting to 127.0.0.1:1: refused"}},
      {"http://ratings:9080/", {503, "no healthy upstream\xff", "text/plain", ""}},
  };
  auto answer = echo::answerJson(self, request, calls);
  CHECK(answer["path"] == "/productpage");
  CHECK(answer["peer"] == "spiffe://cluster.local/ns/istio-system/sa/gw");
  CHECK(answer["calls"][0]["answer"]["version"] == "v2");
  CHECK(answer["calls"][1]["error"] == "connecting to 127.0.0.1:1: refused");
  CHECK(answer["calls"][2]["status"] == 503);
  CHECK(answer["calls"][2]["body"] == "no healthy upstream?");
  CHECK_NOTHROW(answer.dump());
  CHECK_FALSE(echo::callFailed(calls[0].result));
  CHECK(echo::callFailed(calls[1].result));
  CHECK(echo::callFailed(calls[2].result));

  auto text = echo::answerText(answer);
  CHECK_THAT(text, Catch::StartsWith(
                       "productpage v1 (pod productpage-v1-0) GET productpage:9080/productpage"));
  CHECK_THAT(text, Catch::Contains("\n    reviews v2"));
  CHECK_THAT(text, Catch::Contains("error: connecting"));
  CHECK(echo::wantsText("/p?a=1&format=text"));
  CHECK_FALSE(echo::wantsText("/p?format=json"));
}
