// Limits and the statuses that answer them: 431, 414, 413, 501.
#include <catch2/catch.hpp>

#include <string>

#include "core/http/parser.h"
#include "tests/unit/http/recorder.h"

using namespace mesh::core::http;
using namespace mesh::core::http::test;
using namespace std::literals;

namespace {

// A GET whose head is exactly `total` bytes, padded with one long header.
std::string headOfSize(size_t total) {
  std::string start = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: ";
  std::string end = "\r\n\r\n";
  REQUIRE(total >= start.size() + end.size());
  return start + std::string(total - start.size() - end.size(), 'p') + end;
}

std::string withHeaders(size_t n) {
  std::string in = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (size_t i = 1; i < n; ++i) in += "X-" + std::to_string(i) + ": v\r\n";
  return in + "\r\n";
}

ParseError refusal(const std::string& in, const ParserLimits& limits = {}, bool bytewise = false) {
  RequestRecorder rec;
  RequestParser parser(rec, limits);
  FeedOutcome out = bytewise ? feedBytewise(parser, in) : feedWhole(parser, in);
  if (out.status != ParseStatus::error) return {};
  return parser.error();
}

bool accepted(const std::string& in, const ParserLimits& limits = {}, bool bytewise = false) {
  RequestRecorder rec;
  RequestParser parser(rec, limits);
  FeedOutcome out = bytewise ? feedBytewise(parser, in) : feedWhole(parser, in);
  return out.status != ParseStatus::error && rec.messages.size() == 1 && rec.messages[0].complete;
}

}  // namespace

TEST_CASE("A head over 60 KiB is answered with 431", "[http]") {
  const size_t limit = 60 * 1024;
  CHECK(accepted(headOfSize(limit)));
  ParseError e = refusal(headOfSize(limit + 1));
  CHECK(e.status == 431);
  CHECK(e.kind == ParseErrorKind::header_bytes);

  SECTION("an endless head is cut at the limit, not read to the end") {
    RequestRecorder rec;
    RequestParser parser(rec);
    std::string in = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: " + std::string(1 << 20, 'p');
    ParseResult r = parser.feed(in);
    CHECK(r.status == ParseStatus::error);
    CHECK(r.consumed <= limit + 1);
    CHECK(parser.error().status == 431);
  }
  SECTION("endless empty lines before a request count too") {
    std::string lines;
    for (int i = 0; i < 40 * 1024; ++i) lines += "\r\n";
    CHECK(refusal(lines).status == 431);
  }
  SECTION("the limit holds across reads") {
    ParserLimits small;
    small.maxHeaderBytes = 200;
    CHECK(accepted(headOfSize(200), small, true));
    CHECK(refusal(headOfSize(201), small, true).status == 431);
  }
}

TEST_CASE("More than 100 header lines are answered with 431", "[http]") {
  CHECK(accepted(withHeaders(100)));
  ParseError e = refusal(withHeaders(101));
  CHECK(e.status == 431);
  CHECK(e.kind == ParseErrorKind::header_count);

  ParserLimits few;
  few.maxHeaderCount = 3;
  CHECK(accepted(withHeaders(3), few, true));
  CHECK(refusal(withHeaders(4), few, true).status == 431);
}

TEST_CASE("A request-target over 8 KiB is answered with 414", "[http]") {
  auto withTarget = [](size_t len) {
    return "GET /" + std::string(len - 1, 'u') + " HTTP/1.1\r\nHost: h\r\n\r\n";
  };
  CHECK(accepted(withTarget(8 * 1024)));
  ParseError e = refusal(withTarget(8 * 1024 + 1));
  CHECK(e.status == 414);
  CHECK(e.kind == ParseErrorKind::uri_length);
  CHECK(refusal(withTarget(8 * 1024 + 1), {}, true).status == 414);
  // Longer than the whole head limit: still 414, the more precise answer.
  CHECK(refusal(withTarget(100 * 1024)).status == 414);
}

TEST_CASE("A body over the configured maximum is answered with 413", "[http]") {
  ParserLimits limits;
  limits.maxBodyBytes = 10;

  SECTION("Content-Length: refused before the body is read") {
    RequestRecorder rec;
    RequestParser parser(rec, limits);
    ParseResult r = parser.feed("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n"s);
    CHECK(r.status == ParseStatus::error);
    CHECK(parser.error().status == 413);
    CHECK(parser.error().kind == ParseErrorKind::body_size);
    CHECK(rec.messages.empty());
    CHECK(accepted("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789", limits));
  }
  SECTION("chunked: refused when a chunk would pass the maximum") {
    std::string head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
    CHECK(accepted(head + "5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n", limits, true));
    CHECK(refusal(head + "5\r\n01234\r\n6\r\n567890\r\n0\r\n\r\n", limits).status == 413);
    CHECK(refusal(head + "5\r\n01234\r\n6\r\n567890\r\n0\r\n\r\n", limits, true).status == 413);
    CHECK(refusal(head + "FFFFFFFF\r\n", limits).status == 413);
  }
}

TEST_CASE("Transfer codings other than chunked are answered with 501", "[http]") {
  std::string post = "POST / HTTP/1.1\r\nHost: h\r\n";
  for (std::string te : {"gzip", "gzip, chunked", "identity", "chunked;q=1", "x-custom"}) {
    INFO(te);
    ParseError e = refusal(post + "Transfer-Encoding: " + te + "\r\n\r\n0\r\n\r\n");
    CHECK(e.status == 501);
    CHECK(e.kind == ParseErrorKind::transfer_encoding);
  }
}

TEST_CASE("Trailers have limits of their own", "[http]") {
  ParserLimits limits;
  limits.maxHeaderCount = 2;
  limits.maxHeaderBytes = 120;
  std::string head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n";
  CHECK(accepted(head + "A: 1\r\nB: 2\r\n\r\n", limits));
  ParseError count = refusal(head + "A: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits);
  CHECK(count.status == 431);
  CHECK(count.reason == "too many trailer fields");
  ParseError bytes = refusal(head + "A: " + std::string(120, 'x') + "\r\n\r\n", limits);
  CHECK(bytes.status == 431);
  CHECK(bytes.kind == ParseErrorKind::header_bytes);
}

TEST_CASE("Chunk extensions are bounded", "[http]") {
  std::string head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  CHECK(accepted(head + "1;" + std::string(4000, 'e') + "\r\nx\r\n0\r\n\r\n"));
  ParseError e = refusal(head + "1;" + std::string(5000, 'e') + "\r\nx\r\n0\r\n\r\n");
  CHECK(e.status == 400);
  CHECK(e.kind == ParseErrorKind::framing);
}
