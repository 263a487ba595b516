#include <catch2/catch.hpp>

#include <string>

#include "core/http/parser.h"
#include "tests/unit/http/recorder.h"

using namespace mesh::core::http;
using namespace mesh::core::http::test;
using namespace std::literals;

TEST_CASE("A response with Content-Length", "[http]") {
  std::string in =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
  for (bool bytewise : {false, true}) {
    ResponseRecorder rec;
    ResponseParser parser(rec);
    FeedOutcome out = bytewise ? feedBytewise(parser, in) : feedWhole(parser, in);
    CHECK(out.status == ParseStatus::more);
    REQUIRE(rec.messages.size() == 1);
    const Recorded& m = rec.messages[0];
    CHECK(m.status == 200);
    CHECK(m.reason == "OK");
    CHECK(m.contentLength == std::optional<uint64_t>(5));
    CHECK(m.body == "hello");
    CHECK(m.keepAlive);
    CHECK(m.complete);
    CHECK(m.headersAtComplete == m.headers);
    CHECK(m.startTextAtComplete == "OK");
  }
}

TEST_CASE("A response to HEAD has no body whatever its headers say", "[http]") {
  ResponseRecorder rec;
  ResponseParser parser(rec);
  parser.expectResponseTo(Method::head);
  parser.expectResponseTo(Method::get);
  std::string in =
      "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
  ParseResult r = parser.feed(in);
  CHECK(r.status == ParseStatus::more);
  REQUIRE(rec.messages.size() == 2);
  CHECK(rec.messages[0].contentLength == std::optional<uint64_t>(1234));
  CHECK(rec.messages[0].body.empty());
  CHECK(rec.messages[0].complete);
  CHECK(rec.messages[0].keepAlive);
  CHECK(rec.messages[1].body == "hi");

  SECTION("a chunked answer to HEAD is not read as chunks either") {
    ResponseRecorder rec2;
    ResponseParser p2(rec2);
    p2.expectResponseTo(Method::head);
    CHECK(p2.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"s).status ==
          ParseStatus::more);
    REQUIRE(rec2.messages.size() == 1);
    CHECK(rec2.messages[0].complete);
  }
}

TEST_CASE("204 and 304 have no body", "[http]") {
  for (std::string first : {"HTTP/1.1 204 No Content\r\n\r\n"s,
                            "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"s,
                            "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"s,
                            "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"s}) {
    INFO(first);
    ResponseRecorder rec;
    ResponseParser parser(rec);
    std::string in = first + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    CHECK(parser.feed(in).status == ParseStatus::more);
    REQUIRE(rec.messages.size() == 2);
    CHECK(rec.messages[0].body.empty());
    CHECK(rec.messages[0].complete);
    CHECK(rec.messages[1].status == 200);
    CHECK(rec.messages[1].body == "hello");
  }
}

TEST_CASE("A body without length is read until the connection closes", "[http]") {
  std::string in = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this\r\nand this";
  for (bool bytewise : {false, true}) {
    ResponseRecorder rec;
    ResponseParser parser(rec);
    FeedOutcome out = bytewise ? feedBytewise(parser, in) : feedWhole(parser, in);
    CHECK(out.status == ParseStatus::more);
    REQUIRE(rec.messages.size() == 1);
    CHECK_FALSE(rec.messages[0].keepAlive);
    CHECK_FALSE(rec.messages[0].complete);
    CHECK(parser.messageInProgress());
    ParseResult r = parser.finish();
    CHECK(r.status == ParseStatus::closed);
    CHECK(rec.messages[0].complete);
    CHECK(rec.messages[0].body == "all of this\r\nand this");
    CHECK(rec.messages[0].headersAtComplete == rec.messages[0].headers);
  }
  SECTION("so is one with a transfer coding other than chunked") {
    ResponseRecorder rec;
    ResponseParser parser(rec);
    parser.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n\x1f\x8b"s);
    CHECK(parser.finish().status == ParseStatus::closed);
    REQUIRE(rec.messages.size() == 1);
    CHECK(rec.messages[0].body == "\x1f\x8b");
  }
}

TEST_CASE("Interim responses come before the final one", "[http]") {
  ResponseRecorder rec;
  ResponseParser parser(rec);
  parser.expectResponseTo(Method::head);
  std::string in =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
  CHECK(parser.feed(in).status == ParseStatus::more);
  REQUIRE(rec.messages.size() == 3);
  CHECK(rec.messages[0].status == 100);
  CHECK(rec.messages[1].status == 103);
  CHECK(rec.messages[1].headers == Lines{{"Link", "</style.css>; rel=preload"}});
  CHECK(rec.messages[2].status == 200);
  CHECK(rec.messages[2].complete);  // HEAD applied to the final response, not to the 1xx
}

TEST_CASE("101 Switching Protocols hands back the rest", "[http]") {
  std::string head =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
  std::string raw = "\x81\x05hello"s;
  for (bool bytewise : {false, true}) {
    ResponseRecorder rec;
    ResponseParser parser(rec);
    FeedOutcome out = bytewise ? feedBytewise(parser, head + raw) : feedWhole(parser, head + raw);
    CHECK(out.status == ParseStatus::upgrade);
    CHECK(out.consumed == head.size());
    REQUIRE(rec.messages.size() == 1);
    CHECK(rec.messages[0].upgrade);
  }
}

TEST_CASE("A 2xx answer to CONNECT opens a tunnel; a refusal does not", "[http]") {
  ResponseRecorder rec;
  ResponseParser parser(rec);
  parser.expectResponseTo(Method::connect);
  std::string head = "HTTP/1.1 200 Connection established\r\n\r\n";
  ParseResult r = parser.feed(head + "\x16\x03\x01"s);
  CHECK(r.status == ParseStatus::upgrade);
  CHECK(r.consumed == head.size());
  REQUIRE(rec.messages.size() == 1);
  CHECK(rec.messages[0].upgrade);

  ResponseRecorder rec2;
  ResponseParser refused(rec2);
  refused.expectResponseTo(Method::connect);
  r = refused.feed("HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope"s);
  CHECK(r.status == ParseStatus::more);
  REQUIRE(rec2.messages.size() == 1);
  CHECK_FALSE(rec2.messages[0].upgrade);
  CHECK(rec2.messages[0].body == "nope");
}

TEST_CASE("Chunked responses with trailers", "[http]") {
  std::string in =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: grpc-status\r\n\r\n"
      "4\r\nwiki\r\n5;x=y\r\npedia\r\n0\r\ngrpc-status: 0\r\ngrpc-message: ok\r\n\r\n";
  for (bool bytewise : {false, true}) {
    ResponseRecorder rec;
    ResponseParser parser(rec);
    FeedOutcome out = bytewise ? feedBytewise(parser, in) : feedWhole(parser, in);
    CHECK(out.status == ParseStatus::more);
    REQUIRE(rec.messages.size() == 1);
    CHECK(rec.messages[0].body == "wikipedia");
    CHECK(rec.messages[0].trailers == Lines{{"grpc-status", "0"}, {"grpc-message", "ok"}});
  }
}

TEST_CASE("Keep-alive of responses", "[http]") {
  auto keepAlive = [](const std::string& in) {
    ResponseRecorder rec;
    ResponseParser parser(rec);
    parser.feed(in);
    REQUIRE(rec.messages.size() == 1);
    return rec.messages[0].keepAlive;
  };
  CHECK(keepAlive("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
  CHECK_FALSE(keepAlive("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
  CHECK_FALSE(keepAlive("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"));
  CHECK(keepAlive("HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n"));
}

TEST_CASE("A bad response is reported as 502", "[http]") {
  for (std::string in : {
           "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"s,
           "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"s,
           "HTTP/1.1 2000 OK\r\n\r\n"s,
           "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"s,
           "HTTP/1.1 200 OK\nContent-Length: 0\n\n"s,
           "HTTP/2.0 200 OK\r\n\r\n"s,
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n"s,
           "SSH-2.0-OpenSSH_9.2\r\n"s,
       }) {
    INFO(in);
    ResponseRecorder rec;
    ResponseParser parser(rec);
    CHECK(parser.feed(in).status == ParseStatus::error);
    CHECK(parser.error().status == 502);
  }
  ResponseRecorder rec;
  ResponseParser truncated(rec);
  truncated.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"s);
  CHECK(truncated.finish().status == ParseStatus::error);
  CHECK(truncated.error().status == 502);
  CHECK(truncated.error().kind == ParseErrorKind::truncated);
}

TEST_CASE("Response body limit", "[http]") {
  ParserLimits limits;
  limits.maxBodyBytes = 4;
  ResponseRecorder rec;
  ResponseParser parser(rec, limits);
  CHECK(parser.feed("HTTP/1.1 200 OK\r\n\r\n12345"s).status == ParseStatus::error);
  CHECK(parser.error().status == 502);
  CHECK(parser.error().kind == ParseErrorKind::body_size);
}
