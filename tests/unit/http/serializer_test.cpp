#include <catch2/catch.hpp>

#include <string>

#include "core/http/parser.h"
#include "core/http/reason_phrase.h"
#include "core/http/serializer.h"
#include "tests/unit/http/recorder.h"

using namespace mesh::core::http;
using namespace mesh::core::http::test;
using namespace std::literals;

TEST_CASE("Request and response heads are written byte for byte", "[http]") {
  HeaderMap h;
  h.add("Host", "svc.ns.svc.cluster.local");
  h.add("x-request-id", "42");
  std::string out = "previous";
  appendRequestHead(out, "GET", "/a?b=c", h);
  CHECK(out ==
        "previousGET /a?b=c HTTP/1.1\r\nHost: svc.ns.svc.cluster.local\r\n"
        "x-request-id: 42\r\n\r\n");
  out.clear();
  appendRequestHead(out, "GET", "/", h, {"x-hop", "only here"});
  CHECK(out ==
        "GET / HTTP/1.1\r\nHost: svc.ns.svc.cluster.local\r\nx-request-id: 42\r\n"
        "x-hop: only here\r\n\r\n");
  CHECK_FALSE(h.has("x-hop"));

  out.clear();
  appendResponseHead(out, 404, HeaderMap());
  CHECK(out == "HTTP/1.1 404 Not Found\r\n\r\n");
  out.clear();
  appendResponseHead(out, 299, HeaderMap());
  CHECK(out == "HTTP/1.1 299 \r\n\r\n");  // empty reason is valid
  out.clear();
  appendResponseHead(out, 200, HeaderMap(), "Fine");
  CHECK(out == "HTTP/1.1 200 Fine\r\n\r\n");
  out.clear();
  appendResponseHead(out, 42, HeaderMap());
  CHECK(out == "HTTP/1.1 500 Internal Server Error\r\n\r\n");
}

TEST_CASE("Chunk framing", "[http]") {
  CHECK(ChunkHeader(0).view() == "0\r\n");
  CHECK(ChunkHeader(10).view() == "a\r\n");
  CHECK(ChunkHeader(0x1a2b).view() == "1a2b\r\n");
  CHECK(ChunkHeader(UINT64_MAX).view() == "ffffffffffffffff\r\n");
  std::string out;
  appendChunk(out, "hello");
  appendChunk(out, "");
  CHECK(out == "5\r\nhello\r\n");
  HeaderMap trailers;
  trailers.add("grpc-status", "0");
  appendLastChunk(out, trailers);
  CHECK(out == "5\r\nhello\r\n0\r\ngrpc-status: 0\r\n\r\n");
  out.clear();
  appendLastChunk(out, HeaderMap());
  CHECK(out == kLastChunk);
}

TEST_CASE("Local replies", "[http]") {
  CHECK(localReply({.status = 404, .body = "no route\n"}) ==
        "HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\ncontent-length: 9\r\n\r\n"
        "no route\n");
  CHECK(localReply({.status = 400, .body = "", .close = true}) ==
        "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
  CHECK(localReply({.status = 503, .body = "down", .headRequest = true}) ==
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n"
        "content-length: 4\r\n\r\n");
  CHECK(localReply({.status = 204, .body = "ignored"}) == "HTTP/1.1 204 No Content\r\n\r\n");
  HeaderMap extra;
  extra.add("content-type", "application/json");
  extra.add("retry-after", "1");
  CHECK(localReply({.status = 429, .body = "{}", .headers = &extra}) ==
        "HTTP/1.1 429 Too Many Requests\r\ncontent-length: 2\r\n"
        "content-type: application/json\r\nretry-after: 1\r\n\r\n{}");
}

TEST_CASE("Reason phrases", "[http]") {
  CHECK(reasonPhrase(200) == "OK");
  CHECK(reasonPhrase(400) == "Bad Request");
  CHECK(reasonPhrase(403) == "Forbidden");
  CHECK(reasonPhrase(413) == "Content Too Large");
  CHECK(reasonPhrase(414) == "URI Too Long");
  CHECK(reasonPhrase(431) == "Request Header Fields Too Large");
  CHECK(reasonPhrase(501) == "Not Implemented");
  CHECK(reasonPhrase(503) == "Service Unavailable");
  CHECK(reasonPhrase(505) == "HTTP Version Not Supported");
  CHECK(reasonPhrase(299).empty());
  for (int s = 100; s < 600; ++s) {
    for (char c : reasonPhrase(s)) CHECK((c >= 0x20 && c < 0x7f));
  }
}

TEST_CASE("Serialise then parse gives back the same request", "[http]") {
  HeaderMap h;
  h.add("Host", "reviews:9080");
  h.add("Transfer-Encoding", "chunked");
  h.add("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7");
  h.add("Cookie", "a=1");
  h.add("cookie", "b=2");
  HeaderMap trailers;
  trailers.add("x-checksum", "9");

  // Gather-write shape: head, then per piece [size line][piece][CRLF], then the last chunk.
  std::string wire;
  appendRequestHead(wire, "POST", "/reviews/0?u=1", h);
  for (std::string_view piece : {"first piece,"sv, " second"sv, std::string_view("\0\r\n", 3)}) {
    wire += ChunkHeader(piece.size()).view();
    wire += piece;
    wire += kCrlf;
  }
  appendLastChunk(wire, trailers);

  for (bool bytewise : {false, true}) {
    RequestRecorder rec;
    RequestParser parser(rec);
    FeedOutcome out = bytewise ? feedBytewise(parser, wire) : feedWhole(parser, wire);
    CHECK(out.status == ParseStatus::more);
    REQUIRE(rec.messages.size() == 1);
    const Recorded& m = rec.messages[0];
    CHECK(m.method == "POST");
    CHECK(m.target == "/reviews/0?u=1");
    CHECK(m.headers == linesOf(h));
    CHECK(m.body == "first piece, second\0\r\n"s);
    CHECK(m.trailers == linesOf(trailers));
  }
}

TEST_CASE("Serialise then parse gives back the same response", "[http]") {
  HeaderMap h;
  h.add("content-type", "text/html");
  h.add("set-cookie", "id=1; Path=/");
  h.add("set-cookie", "theme=dark");
  std::string body(70000, 'b');
  h.add("content-length", std::to_string(body.size()));
  std::string wire;
  appendResponseHead(wire, 201, h);
  wire += body;
  wire += localReply({.status = 503, .body = "no healthy upstream", .close = true});

  ResponseRecorder rec;
  ResponseParser parser(rec);
  ParseResult r = parser.feed(wire);
  CHECK(r.status == ParseStatus::closed);
  CHECK(r.consumed == wire.size());
  REQUIRE(rec.messages.size() == 2);
  CHECK(rec.messages[0].status == 201);
  CHECK(rec.messages[0].reason == "Created");
  CHECK(rec.messages[0].headers == linesOf(h));
  CHECK(rec.messages[0].body == body);
  CHECK(rec.messages[1].status == 503);
  CHECK(rec.messages[1].body == "no healthy upstream");
  CHECK_FALSE(rec.messages[1].keepAlive);
}
