// The hot path allocates nothing once warm: a keep-alive connection parsing request after
// request (whole, pipelined, or split across reads) reuses its header vector and arena.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "core/http/parser.h"
#include "core/http/serializer.h"

namespace {
std::atomic<size_t> allocations{0};
}

// Counts every allocation of the test binary; only differences are looked at. Every
// non-aligned form is replaced, so that each new is paired with the matching delete
// (ASan checks the pairing).
namespace {
void* counted(std::size_t n) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void* countedOrThrow(std::size_t n) {
  if (void* p = counted(n)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t n) { return countedOrThrow(n); }
void* operator new[](std::size_t n) { return countedOrThrow(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

using namespace mesh::core::http;

namespace {

// Looks at what a proxy looks at, without copying.
class Touch : public RequestHandler {
 public:
  size_t bytes = 0;
  size_t messages = 0;
  Flow onHead(RequestHead& head) override {
    bytes += head.target.size();
    if (auto host = head.headers.get("host")) bytes += host->size();
    for (const auto& e : head.headers) bytes += e.name.size() + e.value.size();
    return Flow::proceed;
  }
  void onBody(std::string_view piece) override { bytes += piece.size(); }
  Flow onMessageComplete(const HeaderMap&) override {
    ++messages;
    return Flow::proceed;
  }
};

const std::string kRequest =
    "POST /api/v1/reviews/42?expand=ratings HTTP/1.1\r\n"
    "Host: reviews.default.svc.cluster.local:9080\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n"
    "Accept: application/json\r\n"
    "Accept-Encoding: gzip, deflate\r\n"
    "Content-Type: application/json\r\n"
    "x-request-id: 6a2b4c1e-9f3d-4c2b-8a1e-2f3d4c5b6a7e\r\n"
    "x-b3-traceid: 80f198ee56343ba864fe8b2a57d3eff7\r\n"
    "x-b3-spanid: e457b5a2e4d86bd1\r\n"
    "x-b3-sampled: 1\r\n"
    "Cookie: session=abc; theme=dark\r\n"
    "Content-Length: 16\r\n"
    "\r\n"
    "{\"rating\": 5.0 }";

}  // namespace

TEST_CASE("Parsing allocates nothing once the connection is warm", "[http]") {
  std::string pipelined;
  for (int i = 0; i < 50; ++i) pipelined += kRequest;
  Touch touch;
  RequestParser parser(touch);

  SECTION("whole reads") {
    REQUIRE(parser.feed(pipelined).status == ParseStatus::more);  // warm up
    size_t before = allocations.load();
    for (int round = 0; round < 20; ++round) parser.feed(pipelined);
    CHECK(allocations.load() - before == 0);
    CHECK(touch.messages == 21 * 50);
  }
  SECTION("reads that split heads") {
    auto feedSplit = [&] {
      for (size_t off = 0; off < pipelined.size(); off += 97) {
        size_t n = std::min<size_t>(97, pipelined.size() - off);
        REQUIRE(parser.feed(pipelined.data() + off, n).status == ParseStatus::more);
      }
    };
    feedSplit();
    size_t before = allocations.load();
    for (int round = 0; round < 5; ++round) feedSplit();
    CHECK(allocations.load() - before == 0);
    CHECK(touch.messages == 6 * 50);
  }
  SECTION("writing heads into a reused buffer") {
    HeaderMap h;
    h.add("host", "ratings:9080");
    h.add("x-request-id", "1");
    std::string out;
    auto write = [&] {
      out.clear();
      appendRequestHead(out, "GET", "/ratings/42", h);
      out += ChunkHeader(4096).view();
    };
    write();  // warm up: the buffer grows once
    size_t before = allocations.load();
    for (int i = 0; i < 100; ++i) write();
    CHECK(allocations.load() - before == 0);
  }
}
