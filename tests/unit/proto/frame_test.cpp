#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/proto/frame.h"

using namespace mesh::core;
using nlohmann::json;

namespace {
std::vector<json> decodeAll(FrameDecoder& decoder, std::string_view bytes, Status* status = nullptr) {
  std::vector<json> out;
  Status s = decoder.feed(bytes, [&](json&& m) { out.push_back(std::move(m)); });
  if (status) *status = s;
  return out;
}
}  // namespace

TEST_CASE("a frame is a big-endian length and a JSON object", "[proto]") {
  std::string frame = encodeFrame({{"type", "ping"}});
  REQUIRE(frame.size() == 4 + std::string(R"({"type":"ping"})").size());
  CHECK(frame.substr(0, 4) == std::string("\0\0\0\x0f", 4));
  CHECK(frame.substr(4) == R"({"type":"ping"})");
}

TEST_CASE("frames cut at every byte boundary decode to the same messages", "[proto]") {
  std::string stream = encodeFrame({{"type", "hello"}, {"node", "web-1"}}) +
                       encodeFrame({{"type", "ack"}, {"version", "42"}});
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    FrameDecoder decoder;
    auto first = decodeAll(decoder, std::string_view(stream).substr(0, cut));
    auto rest = decodeAll(decoder, std::string_view(stream).substr(cut));
    first.insert(first.end(), rest.begin(), rest.end());
    REQUIRE(first.size() == 2);
    CHECK(first[0]["node"] == "web-1");
    CHECK(first[1]["version"] == "42");
    CHECK(decoder.buffered() == 0);
  }
}

TEST_CASE("several frames in one read are delivered in order", "[proto]") {
  std::string stream;
  for (int i = 0; i < 100; ++i) stream += encodeFrame({{"type", "n"}, {"i", i}});
  FrameDecoder decoder;
  auto messages = decodeAll(decoder, stream);
  REQUIRE(messages.size() == 100);
  for (int i = 0; i < 100; ++i) CHECK(messages[i]["i"] == i);
}

TEST_CASE("an oversized frame is refused before its body arrives", "[proto]") {
  FrameDecoder decoder(1024);
  Status status;
  // Only the header: the decoder must not wait for (or buffer) 2 GB.
  auto messages = decodeAll(decoder, std::string("\x7f\xff\xff\xff", 4), &status);
  CHECK(messages.empty());
  CHECK(status.code() == Code::too_large);
  CHECK(decoder.failed());
  CHECK(decoder.buffered() == 0);
  // A failed decoder stays failed.
  decodeAll(decoder, encodeFrame({{"type", "ping"}}), &status);
  CHECK(status.code() == Code::too_large);
}

TEST_CASE("malformed frames are refused with a reason", "[proto]") {
  struct Case {
    std::string payload;
    std::string reason;
  };
  std::vector<Case> cases = {
      {"{not json", "malformed JSON"},
      {"[1,2,3]", "not a JSON object"},
      {R"({"kind":"ping"})", "no \"type\""},
      {R"({"type":7})", "no \"type\""},
      {"", "malformed JSON"},
      {std::string("\xff\xfe\x00garbage", 10), "malformed JSON"},
  };
  for (const auto& c : cases) {
    FrameDecoder decoder;
    Status status;
    auto messages = decodeAll(decoder, encodeFrameBytes(c.payload), &status);
    CHECK(messages.empty());
    CHECK(status.code() == Code::invalid);
    CHECK_THAT(status.message(), Catch::Contains(c.reason));
  }
}

TEST_CASE("a good frame before a bad one is still delivered", "[proto]") {
  FrameDecoder decoder;
  Status status;
  auto messages =
      decodeAll(decoder, encodeFrame({{"type", "ping"}}) + encodeFrameBytes("{oops"), &status);
  REQUIRE(messages.size() == 1);
  CHECK(messages[0]["type"] == "ping");
  CHECK_FALSE(status.ok());
}

TEST_CASE("error frames carry the code and the reason", "[proto]") {
  json message = errorMessage(error(Code::denied, "token is for another identity"));
  CHECK(message["type"] == "error");
  CHECK(message["code"] == "denied");
  CHECK(message["reason"] == "token is for another identity");
  // Invalid UTF-8 from a peer is replaced, not thrown.
  CHECK_NOTHROW(encodeFrame(errorMessage(error(Code::invalid, std::string("bad \xff byte")))));
}
