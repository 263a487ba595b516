#include <catch2/catch.hpp>

#include <string>

#include "core/http/parser.h"
#include "tests/unit/http/recorder.h"

using namespace mesh::core::http;
using namespace mesh::core::http::test;
using namespace std::literals;

namespace {

// Headers of every kind, a chunked body with extensions (one of them the list llhttp 8.1
// cannot parse alone) and trailers: the request the split tests cut everywhere.
const std::string kTricky =
    "POST /upload/a%20b?x=1&y=%C3%A9 HTTP/1.1\r\n"
    "Host: api.example.com:8080\r\n"
    "User-Agent: curl/8.0\r\n"
    "X-Trim:   padded value  \t\r\n"
    "X-Empty:\r\n"
    "Set-Cookie: a=1\r\n"
    "set-cookie: b=2\r\n"
    "X-Obs-Text: caf\xc3\xa9\r\n"
    "Transfer-Encoding: chunked\r\n"
    "\r\n"
    "5;name=value;flag\r\n"
    "hello\r\n"
    "6;q=\"quoted;value\"\r\n"
    " world\r\n"
    "1;a=b;c=d;e\r\n"
    "!\r\n"
    "0;last=1\r\n"
    "X-Checksum: abc123\r\n"
    "X-Trailer-2: yes\r\n"
    "\r\n";

Recorded expectedTricky() {
  Recorded r;
  r.method = "POST";
  r.methodCode = Method::post;
  r.target = "/upload/a%20b?x=1&y=%C3%A9";
  r.version = {1, 1};
  r.headers = {{"Host", "api.example.com:8080"},
               {"User-Agent", "curl/8.0"},
               {"X-Trim", "padded value"},
               {"X-Empty", ""},
               {"Set-Cookie", "a=1"},
               {"set-cookie", "b=2"},
               {"X-Obs-Text", "caf\xc3\xa9"},
               {"Transfer-Encoding", "chunked"}};
  r.keepAlive = true;
  r.chunked = true;
  r.body = "hello world!";
  r.trailers = {{"X-Checksum", "abc123"}, {"X-Trailer-2", "yes"}};
  r.complete = true;
  r.headersAtComplete = r.headers;
  r.startTextAtComplete = r.target;
  return r;
}

}  // namespace

TEST_CASE("A simple GET is delivered with its head", "[http]") {
  RequestRecorder rec;
  RequestParser parser(rec);
  std::string in = "GET /index.html?q=1 HTTP/1.1\r\nHost: a.example\r\nAccept: */*\r\n\r\n";
  ParseResult r = parser.feed(in);
  CHECK(r.status == ParseStatus::more);
  CHECK(r.consumed == in.size());
  REQUIRE(rec.messages.size() == 1);
  const Recorded& m = rec.messages[0];
  CHECK(m.method == "GET");
  CHECK(m.methodCode == Method::get);
  CHECK(m.target == "/index.html?q=1");
  CHECK(m.version == Version{1, 1});
  CHECK(m.headers == Lines{{"Host", "a.example"}, {"Accept", "*/*"}});
  CHECK(m.keepAlive);
  CHECK_FALSE(m.upgrade);
  CHECK_FALSE(m.contentLength.has_value());
  CHECK(m.body.empty());
  CHECK(m.complete);
  CHECK_FALSE(parser.messageInProgress());
}

TEST_CASE("A request split at every byte boundary gives the same result", "[http]") {
  RequestRecorder whole;
  RequestParser p0(whole);
  REQUIRE(feedWhole(p0, kTricky).status == ParseStatus::more);
  REQUIRE(whole.messages.size() == 1);
  CHECK(whole.messages[0] == expectedTricky());

  SECTION("in two pieces, cut anywhere") {
    for (size_t cut = 1; cut < kTricky.size(); ++cut) {
      RequestRecorder rec;
      RequestParser parser(rec);
      FeedOutcome out = feedPieces(parser, kTricky, {cut});
      INFO("cut at " << cut);
      REQUIRE(out.status == ParseStatus::more);
      REQUIRE(rec.messages.size() == 1);
      CHECK(rec.messages[0] == expectedTricky());
    }
  }
  SECTION("in three pieces, cut anywhere") {
    for (size_t a = 1; a < kTricky.size(); a += 3) {
      for (size_t b = a + 1; b < kTricky.size(); b += 2) {
        RequestRecorder rec;
        RequestParser parser(rec);
        FeedOutcome out = feedPieces(parser, kTricky, {a, b});
        INFO("cuts at " << a << ", " << b);
        REQUIRE(out.status == ParseStatus::more);
        REQUIRE(rec.messages.size() == 1);
        REQUIRE(rec.messages[0] == expectedTricky());
      }
    }
  }
  SECTION("byte by byte") {
    RequestRecorder rec;
    RequestParser parser(rec);
    REQUIRE(feedBytewise(parser, kTricky).status == ParseStatus::more);
    REQUIRE(rec.messages.size() == 1);
    CHECK(rec.messages[0] == expectedTricky());
  }
}

TEST_CASE("Pipelined requests in one read are delivered in order", "[http]") {
  std::string in =
      "GET /one HTTP/1.1\r\nHost: h\r\n\r\n"
      "POST /two HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
      "\r\n"  // an empty line between requests is allowed (RFC 9112 2.2)
      "DELETE /three HTTP/1.1\r\nHost: h\r\n\r\n";

  SECTION("all at once") {
    RequestRecorder rec;
    RequestParser parser(rec);
    ParseResult r = parser.feed(in);
    CHECK(r.status == ParseStatus::more);
    CHECK(r.consumed == in.size());
    REQUIRE(rec.messages.size() == 3);
    CHECK(rec.messages[0].target == "/one");
    CHECK(rec.messages[1].target == "/two");
    CHECK(rec.messages[1].body == "abc");
    CHECK(rec.messages[1].contentLength == std::optional<uint64_t>(3));
    CHECK(rec.messages[2].method == "DELETE");
    CHECK(rec.messages[2].methodCode == Method::delete_);
  }
  SECTION("the caller pauses after each message") {
    RequestRecorder rec;
    rec.afterMessage = Flow::pause;
    RequestParser parser(rec);
    ParseResult r = parser.feed(in);
    CHECK(r.status == ParseStatus::paused);
    std::string first = "GET /one HTTP/1.1\r\nHost: h\r\n\r\n";
    CHECK(r.consumed == first.size());
    REQUIRE(rec.messages.size() == 1);
    // The paused message's head is still there to work with.
    CHECK(parser.head().target == "/one");
    CHECK(parser.head().headers.get("host") == std::optional<std::string_view>("h"));

    size_t off = r.consumed;
    r = parser.feed(in.data() + off, in.size() - off);
    CHECK(r.status == ParseStatus::paused);
    REQUIRE(rec.messages.size() == 2);
    CHECK(rec.messages[1].body == "abc");
    off += r.consumed;
    r = parser.feed(in.data() + off, in.size() - off);
    CHECK(r.status == ParseStatus::paused);
    off += r.consumed;
    CHECK(off == in.size());
    REQUIRE(rec.messages.size() == 3);
    CHECK(rec.messages[2].target == "/three");
  }
  SECTION("the caller pauses after a head") {
    RequestRecorder rec;
    rec.afterHead = Flow::pause;
    RequestParser parser(rec);
    std::string second = "POST /two HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n";
    size_t firstLen = std::string("GET /one HTTP/1.1\r\nHost: h\r\n\r\n").size();
    ParseResult r = parser.feed(in);
    CHECK(r.status == ParseStatus::paused);
    CHECK(r.consumed == firstLen);
    CHECK_FALSE(rec.messages[0].complete);
    r = parser.feed(in.data() + firstLen, in.size() - firstLen);
    CHECK(r.status == ParseStatus::paused);  // paused at the head of /two, body unread
    CHECK(r.consumed == second.size());
    REQUIRE(rec.messages.size() == 2);
    CHECK(rec.messages[0].complete);
    CHECK(rec.messages[1].body.empty());
  }
}

TEST_CASE("Chunked bodies with extensions and trailers", "[http]") {
  RequestRecorder rec;
  RequestParser parser(rec);
  std::string in =
      "PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "A;ext\r\n0123456789\r\n"
      "a;one=1;two=\"2\";three=3\r\nabcdefghij\r\n"
      "0\r\nExpires: never\r\n\r\n";
  ParseResult r = parser.feed(in);
  CHECK(r.status == ParseStatus::more);
  REQUIRE(rec.messages.size() == 1);
  CHECK(rec.messages[0].chunked);
  CHECK(rec.messages[0].body == "0123456789abcdefghij");
  CHECK(rec.messages[0].trailers == Lines{{"Expires", "never"}});

  SECTION("a chunked body split byte by byte") {
    RequestRecorder rec2;
    RequestParser parser2(rec2);
    CHECK(feedBytewise(parser2, in).status == ParseStatus::more);
    REQUIRE(rec2.messages.size() == 1);
    CHECK(rec2.messages[0] == rec.messages[0]);
  }
}

TEST_CASE("Keep-alive follows the version and the Connection header", "[http]") {
  auto parse = [](const std::string& in, ParseResult* result = nullptr) {
    RequestRecorder rec;
    RequestParser parser(rec);
    ParseResult r = parser.feed(in);
    if (result) *result = r;
    REQUIRE(rec.messages.size() == 1);
    return rec.messages[0];
  };
  CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n").keepAlive);
  CHECK_FALSE(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").keepAlive);
  CHECK_FALSE(
      parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, close\r\n\r\n").keepAlive);
  CHECK_FALSE(parse("GET / HTTP/1.0\r\n\r\n").keepAlive);
  CHECK(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keepAlive);
  Recorded m10 = parse("GET / HTTP/1.0\r\n\r\n");
  CHECK(m10.version == Version{1, 0});

  SECTION("bytes after a Connection: close request are not parsed") {
    std::string first = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
    std::string in = first + "GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n";
    RequestRecorder rec;
    RequestParser parser(rec);
    ParseResult r = parser.feed(in);
    CHECK(r.status == ParseStatus::closed);
    CHECK(r.consumed == first.size());
    CHECK(rec.messages.size() == 1);
    r = parser.feed(in.data() + r.consumed, in.size() - r.consumed);
    CHECK(r.status == ParseStatus::closed);
    CHECK(r.consumed == 0);
    CHECK(rec.messages.size() == 1);
  }
  SECTION("so are bytes after an HTTP/1.0 request") {
    std::string in = "GET / HTTP/1.0\r\n\r\nGET /next HTTP/1.0\r\n\r\n";
    RequestRecorder rec;
    RequestParser parser(rec);
    ParseResult r = parser.feed(in);
    CHECK(r.status == ParseStatus::closed);
    CHECK(r.consumed == 18);
    CHECK(rec.messages.size() == 1);
  }
}

TEST_CASE("Upgrade: websocket hands back the bytes that follow", "[http]") {
  std::string head =
      "GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  std::string raw = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58GET / HTTP/1.1\r\n"s;
  std::string in = head + raw;

  for (bool bytewise : {false, true}) {
    RequestRecorder rec;
    RequestParser parser(rec);
    FeedOutcome out = bytewise ? feedBytewise(parser, in) : feedWhole(parser, in);
    INFO("bytewise " << bytewise);
    CHECK(out.status == ParseStatus::upgrade);
    CHECK(out.consumed == head.size());
    CHECK(in.substr(out.consumed) == raw);
    REQUIRE(rec.messages.size() == 1);
    CHECK(rec.messages[0].upgrade);
    CHECK(rec.messages[0].complete);
    // The parser stays out of the way once upgraded.
    ParseResult again = parser.feed(raw);
    CHECK(again.status == ParseStatus::upgrade);
    CHECK(again.consumed == 0);
    CHECK(parser.head().target == "/chat");  // still readable: the head was copied
  }
}

TEST_CASE("CONNECT is an upgrade; a declined upgrade goes back to HTTP", "[http]") {
  std::string connect = "CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\n\r\n";
  std::string next = "GET /after HTTP/1.1\r\nHost: h\r\n\r\n";
  RequestRecorder rec;
  RequestParser parser(rec);
  std::string in = connect + next;
  ParseResult r = parser.feed(in);
  CHECK(r.status == ParseStatus::upgrade);
  CHECK(r.consumed == connect.size());
  REQUIRE(rec.messages.size() == 1);
  CHECK(rec.messages[0].methodCode == Method::connect);
  CHECK(rec.messages[0].target == "db.internal:5432");

  parser.resumeAfterUpgrade();
  r = parser.feed(in.data() + connect.size(), next.size());
  CHECK(r.status == ParseStatus::more);
  REQUIRE(rec.messages.size() == 2);
  CHECK(rec.messages[1].target == "/after");
}

TEST_CASE("Heads stay valid when the caller reuses its read buffer", "[http]") {
  // feedPieces scribbles over each piece once fed: the head, read in one piece, must be
  // intact when the body ends three pieces later.
  std::string head = "POST /p HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nContent-Length: 6\r\n\r\n";
  std::string in = head + "abcdef";
  RequestRecorder rec;
  RequestParser parser(rec);
  feedPieces(parser, in, {head.size(), head.size() + 2, head.size() + 4});
  REQUIRE(rec.messages.size() == 1);
  CHECK(rec.messages[0].headersAtComplete == rec.messages[0].headers);
  CHECK(rec.messages[0].startTextAtComplete == "/p");
  CHECK(rec.messages[0].body == "abcdef");
}

TEST_CASE("Versions other than HTTP/1.0 and HTTP/1.1 are refused with 505", "[http]") {
  for (std::string in : {"GET / HTTP/2.0\r\nHost: h\r\n\r\n"s, "GET /\r\n\r\n"s,
                         "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"s}) {
    RequestRecorder rec;
    RequestParser parser(rec);
    INFO(in);
    CHECK(parser.feed(in).status == ParseStatus::error);
    CHECK(parser.error().status == 505);
    CHECK(parser.error().kind == ParseErrorKind::version);
    CHECK(rec.messages.empty());
  }
}

TEST_CASE("Host must be there once in HTTP/1.1", "[http]") {
  RequestRecorder rec;
  RequestParser parser(rec);
  CHECK(parser.feed("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"s).status == ParseStatus::error);
  CHECK(parser.error().status == 400);
  CHECK(parser.error().reason == "missing Host header");
  CHECK(rec.messages.empty());
}

TEST_CASE("The peer closing mid-message is reported at finish()", "[http]") {
  RequestRecorder rec;
  RequestParser parser(rec);
  parser.feed("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc"s);
  CHECK(parser.messageInProgress());
  ParseResult r = parser.finish();
  CHECK(r.status == ParseStatus::error);
  CHECK(parser.error().status == 400);
  CHECK(parser.error().kind == ParseErrorKind::truncated);

  RequestParser idle(rec);
  idle.feed("GET / HTTP/1.1\r\nHost: h\r\n\r\n"s);
  CHECK(idle.finish().status == ParseStatus::closed);

  RequestParser partialHead(rec);
  partialHead.feed("GET / HT"s);
  CHECK(partialHead.finish().status == ParseStatus::error);
  CHECK(partialHead.error().kind == ParseErrorKind::truncated);
}

TEST_CASE("An error sticks until reset()", "[http]") {
  RequestRecorder rec;
  RequestParser parser(rec);
  CHECK(parser.feed("BREW /pot HTTP/1.1\r\n\r\n"s).status == ParseStatus::error);
  CHECK(parser.error().status == 400);
  CHECK(parser.feed("GET / HTTP/1.1\r\nHost: h\r\n\r\n"s).status == ParseStatus::error);
  parser.reset();
  CHECK(parser.feed("GET / HTTP/1.1\r\nHost: h\r\n\r\n"s).status == ParseStatus::more);
  CHECK(rec.messages.size() == 1);
}

TEST_CASE("A materialized head outlives the bytes it was parsed from", "[http]") {
  RequestRecorder rec;
  RequestParser parser(rec);
  std::string in = "GET /kept?x=1 HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\r\n";
  REQUIRE(parser.feed(in).status == ParseStatus::more);
  // Complete in one read: the head still points into `in`, until materialized.
  CHECK_FALSE(parser.head().headers.owns(parser.head().target));
  parser.head().materialize();
  in.assign(in.size(), '#');
  CHECK(parser.head().target == "/kept?x=1");
  CHECK(parser.head().headers.get("x-a") == std::optional<std::string_view>("1"));
}
