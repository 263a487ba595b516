// The mux between sidecars (proxy/mux): the frame codec, and sessions over real loopback TCP
// connections.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "core/loop/loop.h"
#include "core/loop/tcp.h"
#include "proxy/mux/frame.h"
#include "proxy/mux/session.h"

using namespace mesh;
using namespace mesh::proxy::mux;

namespace {

struct Frame {
  FrameType type;
  uint32_t stream;
  std::string data;  // DATA: the payload, joined
  uint32_t value = 0;
};

struct Frames final : FrameDecoder::Handler {
  std::vector<Frame> frames;
  bool onFrameData(uint32_t stream, std::string_view piece) override {
    if (frames.empty() || frames.back().type != FrameType::data || frames.back().stream != stream)
      frames.push_back({FrameType::data, stream, {}});
    frames.back().data.append(piece);
    return true;
  }
  bool onFrameControl(FrameType type, uint32_t stream, uint32_t value) override {
    frames.push_back({type, stream, {}, value});
    return true;
  }
};

FrameDecoder::Result feedAll(FrameDecoder& decoder, const std::string& bytes, Frames& out,
                             std::size_t step) {
  auto result = FrameDecoder::Result::more;
  for (std::size_t at = 0; at < bytes.size() && result == FrameDecoder::Result::more; at += step)
    result = decoder.feed({bytes.data() + at, std::min(step, bytes.size() - at)}, out);
  return result;
}

}  // namespace

TEST_CASE("mux frames decode the same however the bytes are cut", "[mux]") {
  std::string big(kMaxPayload + 10, 'x');
  big[kMaxPayload] = 'y';
  std::string wire;
  appendData(wire, 1, "GET / HTTP/1.1\r\n\r\n");
  appendControl(wire, FrameType::window, 3, 65536);
  appendData(wire, 3, big);
  appendControl(wire, FrameType::fin, 1);
  appendControl(wire, FrameType::reset, 5, 7);
  appendControl(wire, FrameType::goAway, 0, 5);
  for (std::size_t step : {std::size_t{1}, std::size_t{3}, std::size_t{8}, wire.size()}) {
    INFO("step " << step);
    FrameDecoder decoder;
    Frames got;
    REQUIRE(feedAll(decoder, wire, got, step) == FrameDecoder::Result::more);
    REQUIRE(got.frames.size() == 6);
    CHECK(got.frames[0].data == "GET / HTTP/1.1\r\n\r\n");
    CHECK(got.frames[1].type == FrameType::window);
    CHECK(got.frames[1].value == 65536);
    // A payload over the frame limit goes as two frames and arrives whole.
    CHECK(got.frames[2].stream == 3);
    CHECK(got.frames[2].data == big);
    CHECK(got.frames[3].type == FrameType::fin);
    CHECK(got.frames[3].stream == 1);
    CHECK(got.frames[4].type == FrameType::reset);
    CHECK(got.frames[5].type == FrameType::goAway);
    CHECK(got.frames[5].value == 5);
  }
}

TEST_CASE("malformed mux frames are refused", "[mux]") {
  auto header = [](uint32_t length, uint8_t type, uint32_t stream) {
    std::string out;
    appendHeader(out, {length, FrameType::data, stream});
    out[3] = static_cast<char>(type);
    return out;
  };
  struct Case {
    const char* what;
    std::string bytes;
  };
  std::vector<Case> cases = {
      {"unknown type", header(0, 9, 1)},
      {"oversized DATA", header(kMaxPayload + 1, 0, 1)},
      {"FIN with a payload", header(1, 1, 1) + "x"},
      {"short WINDOW", header(2, 3, 1) + "xx"},
      {"GOAWAY on a stream", header(4, 4, 1) + "xxxx"},
      {"DATA on stream 0", header(1, 0, 0) + "x"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    FrameDecoder decoder;
    Frames got;
    CHECK(decoder.feed({c.bytes.data(), c.bytes.size()}, got) == FrameDecoder::Result::error);
    CHECK_FALSE(decoder.error().empty());
    CHECK(got.frames.empty());
  }
}

namespace {

// A client and a server session over one loopback TCP connection; the server echoes nothing
// on its own: each test drives the streams it gets.
struct Pair {
  core::Loop loop;
  core::TcpListener listener{loop};
  std::shared_ptr<Session> client;
  std::shared_ptr<Session> server;
  std::vector<std::unique_ptr<core::Stream>> accepted;
  std::chrono::milliseconds idle{60'000};

  Pair() {
    REQUIRE(listener
                .listen(core::SocketAddress::loopbackV4(0),
                        [this](std::unique_ptr<core::TcpStream> tcp) {
                          server = Session::server(loop, std::move(tcp), idle,
                                                   [this](std::unique_ptr<core::Stream> s) {
                                                     accepted.push_back(std::move(s));
                                                   });
                        })
                .ok());
    auto tcp = std::make_unique<core::TcpStream>(loop);
    core::TcpStream* raw = tcp.get();
    bool connected = false;
    REQUIRE(raw->connect(core::SocketAddress::loopbackV4(listener.port()),
                         [&](core::Status s) {
                           REQUIRE(s.ok());
                           connected = true;
                         })
                .ok());
    while (!connected && loop.runOnce()) {
    }
    client = Session::client(loop, std::move(tcp));
  }
  template <typename Done>
  void runUntil(Done done, int turns = 2000) {
    for (int i = 0; i < turns && !done(); ++i) loop.runOnce();
  }
  ~Pair() {
    accepted.clear();
    if (client) client->close();
    if (server) server->close();
    client.reset();
    server.reset();
    listener.close();
    loop.run();
  }
};

struct Sink final : core::StreamSink {
  std::string data;
  bool eof = false;
  core::Status error;
  void onData(core::ByteView d) override { data.append(d.data(), d.size()); }
  void onEof() override { eof = true; }
  void onError(const core::Status& s) override { error = s; }
};

}  // namespace

TEST_CASE("streams of one mux connection carry their own bytes and ends", "[mux]") {
  Pair pair;
  std::vector<std::unique_ptr<core::Stream>> streams;
  for (int i = 0; i < 3; ++i) streams.push_back(pair.client->open());
  for (int i = 0; i < 3; ++i) {
    REQUIRE(streams[i]->write("request " + std::to_string(i), nullptr).ok());
    REQUIRE(streams[i]->shutdown(nullptr).ok());
  }
  pair.runUntil([&] { return pair.accepted.size() == 3; });
  REQUIRE(pair.accepted.size() == 3);
  CHECK(pair.client->streamCount() == 3);
  std::vector<Sink> atServer(3);
  for (int i = 0; i < 3; ++i) REQUIRE(pair.accepted[i]->startReading(atServer[i]).ok());
  pair.runUntil([&] { return atServer[2].eof; });
  for (int i = 0; i < 3; ++i) {
    CHECK(atServer[i].data == "request " + std::to_string(i));
    CHECK(atServer[i].eof);
  }
  // Answers go back on the stream they belong to; the other streams stay open.
  std::vector<Sink> atClient(3);
  for (int i = 0; i < 3; ++i) REQUIRE(streams[i]->startReading(atClient[i]).ok());
  bool written = false;
  REQUIRE(pair.accepted[1]->write("answer 1", [&](core::Status s) { written = s.ok(); }).ok());
  REQUIRE(pair.accepted[1]->shutdown(nullptr).ok());
  pair.runUntil([&] { return atClient[1].eof && written; });
  CHECK(written);
  CHECK(atClient[1].data == "answer 1");
  CHECK(atClient[0].data.empty());
  CHECK_FALSE(atClient[0].eof);
  CHECK(streams[0]->isOpen());
  // A stream closed on one side is gone from both; the connection lives on for the others.
  streams[1]->close();
  pair.accepted[1]->close();
  CHECK(pair.client->streamCount() == 2);
  CHECK(pair.server->streamCount() == 2);
  CHECK(pair.client->isOpen());
}

TEST_CASE("a stream opened early and used late still reaches the peer", "[mux]") {
  // A pool may open a stream, park it idle, and send on a later one first.
  Pair pair;
  auto early = pair.client->open();
  auto late = pair.client->open();
  REQUIRE(late->write(std::string("second opened, first sent"), nullptr).ok());
  pair.runUntil([&] { return pair.accepted.size() == 1; });
  REQUIRE(early->write(std::string("first opened, second sent"), nullptr).ok());
  pair.runUntil([&] { return pair.accepted.size() == 2; });
  REQUIRE(pair.accepted.size() == 2);
  Sink a, b;
  REQUIRE(pair.accepted[0]->startReading(a).ok());
  REQUIRE(pair.accepted[1]->startReading(b).ok());
  pair.runUntil([&] { return !b.data.empty(); });
  CHECK(a.data == "second opened, first sent");
  CHECK(b.data == "first opened, second sent");
  // One never used is forgotten without a word to the peer.
  auto unused = pair.client->open();
  CHECK(pair.client->streamCount() == 3);
  unused.reset();
  CHECK(pair.client->streamCount() == 2);
  for (int i = 0; i < 20; ++i) pair.loop.runNoWait();
  CHECK(pair.accepted.size() == 2);
}

TEST_CASE("a stream whose reader stops holds back only its own bytes", "[mux]") {
  Pair pair;
  auto slow = pair.client->open();
  auto quick = pair.client->open();
  const std::string big(4 * kInitialWindow, 'b');
  REQUIRE(slow->write(big, nullptr).ok());
  REQUIRE(quick->write(std::string("ping"), nullptr).ok());
  pair.runUntil([&] { return pair.accepted.size() == 2; });
  REQUIRE(pair.accepted.size() == 2);
  Sink slowSink, quickSink;
  // The slow side does not read yet: only its window's worth may be in flight.
  REQUIRE(pair.accepted[1]->startReading(quickSink).ok());
  pair.runUntil([&] { return quickSink.data == "ping"; });
  CHECK(quickSink.data == "ping");
  for (int i = 0; i < 50; ++i) pair.loop.runNoWait();
  CHECK(slow->writeQueueSize() >= big.size() - kInitialWindow);
  // Once read, the rest flows, in order and whole.
  REQUIRE(pair.accepted[0]->startReading(slowSink).ok());
  pair.runUntil([&] { return slowSink.data.size() == big.size(); }, 20000);
  CHECK(slowSink.data == big);
  pair.runUntil([&] { return slow->writeQueueSize() == 0; });
  CHECK(slow->writeQueueSize() == 0);
}

TEST_CASE("when the shared connection ends, every open stream sees an error", "[mux]") {
  Pair pair;
  auto a = pair.client->open();
  auto b = pair.client->open();
  REQUIRE(a->write(std::string("a"), nullptr).ok());
  REQUIRE(b->write(std::string("b"), nullptr).ok());
  Sink sa, sb;
  REQUIRE(a->startReading(sa).ok());
  REQUIRE(b->startReading(sb).ok());
  pair.runUntil([&] { return pair.accepted.size() == 2; });
  REQUIRE(pair.server);
  pair.server->close();
  pair.runUntil([&] { return !sa.error.ok() && !sb.error.ok(); });
  CHECK_FALSE(sa.error.ok());
  CHECK_FALSE(sb.error.ok());
  CHECK_FALSE(a->isOpen());
  CHECK_FALSE(a->write(std::string("late"), nullptr).ok());
  CHECK_FALSE(pair.client->acceptsStreams());
  CHECK(pair.client->open() == nullptr);
}

TEST_CASE("a server that goes away keeps its streams and takes no new ones", "[mux]") {
  Pair pair;
  auto first = pair.client->open();
  REQUIRE(first->write(std::string("one"), nullptr).ok());
  pair.runUntil([&] { return pair.accepted.size() == 1; });
  REQUIRE(pair.accepted.size() == 1);
  pair.server->goAway();
  pair.runUntil([&] { return !pair.client->acceptsStreams(); });
  CHECK_FALSE(pair.client->acceptsStreams());
  CHECK(pair.client->open() == nullptr);
  // The stream it had still answers; once it ends, the connection closes.
  Sink atClient;
  REQUIRE(first->startReading(atClient).ok());
  REQUIRE(pair.accepted[0]->write(std::string("answer"), nullptr).ok());
  pair.runUntil([&] { return atClient.data == "answer"; });
  CHECK(atClient.data == "answer");
  pair.accepted[0]->close();
  pair.runUntil([&] { return !pair.server->isOpen(); });
  CHECK_FALSE(pair.server->isOpen());
}

TEST_CASE("a stream that crossed the server's GOAWAY on the wire is still served", "[mux]") {
  Pair pair;
  auto first = pair.client->open();
  REQUIRE(first->write(std::string("one"), nullptr).ok());
  pair.runUntil([&] { return pair.accepted.size() == 1; });
  REQUIRE(pair.accepted.size() == 1);
  // Opened before the client hears the GOAWAY that is already on its way.
  pair.server->goAway();
  auto late = pair.client->open();
  REQUIRE(late);
  REQUIRE(late->write(std::string("late"), nullptr).ok());
  Sink lateAtClient;
  REQUIRE(late->startReading(lateAtClient).ok());
  pair.runUntil([&] { return pair.accepted.size() == 2; });
  REQUIRE(pair.accepted.size() == 2);
  Sink lateAtServer;
  REQUIRE(pair.accepted[1]->startReading(lateAtServer).ok());
  pair.runUntil([&] { return lateAtServer.data == "late"; });
  CHECK(lateAtServer.data == "late");
  REQUIRE(pair.accepted[1]->write(std::string("served"), nullptr).ok());
  pair.runUntil([&] { return lateAtClient.data == "served"; });
  CHECK(lateAtClient.data == "served");
  CHECK(lateAtClient.error.ok());
}

TEST_CASE("a server refuses streams past the limit and closes on garbage", "[mux]") {
  Pair pair;
  // Raw frames on a second connection, as a broken or hostile peer would send them.
  std::shared_ptr<Session> raw;
  std::vector<std::unique_ptr<core::Stream>> rawAccepted;
  core::TcpListener listener(pair.loop);
  REQUIRE(listener
              .listen(core::SocketAddress::loopbackV4(0),
                      [&](std::unique_ptr<core::TcpStream> tcp) {
                        raw = Session::server(pair.loop, std::move(tcp), pair.idle,
                                              [&](std::unique_ptr<core::Stream> s) {
                                                rawAccepted.push_back(std::move(s));
                                              });
                      })
              .ok());
  core::TcpStream peer(pair.loop);
  Sink replies;
  bool connected = false;
  REQUIRE(peer.connect(core::SocketAddress::loopbackV4(listener.port()),
                       [&](core::Status s) { connected = s.ok(); })
              .ok());
  pair.runUntil([&] { return connected; });
  REQUIRE(peer.startReading(replies).ok());
  std::string wire;
  for (uint32_t i = 0; i <= kMaxStreams; ++i) appendData(wire, 2 * i + 1, "x");
  REQUIRE(peer.write(wire, nullptr).ok());
  std::string refusal;
  appendControl(refusal, FrameType::reset, 2 * kMaxStreams + 1, 0);
  pair.runUntil([&] { return replies.data.find(refusal) != std::string::npos; });
  CHECK(rawAccepted.size() == kMaxStreams);
  CHECK(replies.data.find(refusal) != std::string::npos);
  // Garbage ends the connection, and every stream on it.
  Sink onFirst;
  REQUIRE(rawAccepted[0]->startReading(onFirst).ok());
  REQUIRE(peer.write(std::string("\xff\xff\xff\xff garbage"), nullptr).ok());
  pair.runUntil([&] { return !raw->isOpen() && !onFirst.error.ok(); });
  CHECK_FALSE(raw->isOpen());
  CHECK(onFirst.data == "x");
  CHECK_FALSE(onFirst.error.ok());
  rawAccepted.clear();
  raw.reset();
  peer.close();
  listener.close();
}

TEST_CASE("a server closes a connection that carries no stream for its idle timeout", "[mux]") {
  core::Loop loop;
  core::TcpListener listener(loop);
  std::shared_ptr<Session> server;
  REQUIRE(listener
              .listen(core::SocketAddress::loopbackV4(0),
                      [&](std::unique_ptr<core::TcpStream> tcp) {
                        server = Session::server(loop, std::move(tcp),
                                                 std::chrono::milliseconds(50),
                                                 [](std::unique_ptr<core::Stream>) {});
                      })
              .ok());
  core::TcpStream peer(loop);
  Sink sink;
  REQUIRE(peer.connect(core::SocketAddress::loopbackV4(listener.port()),
                       [&](core::Status s) { REQUIRE(peer.startReading(sink).ok()); (void)s; })
              .ok());
  for (int i = 0; i < 1000 && !sink.eof && sink.error.ok(); ++i) loop.runOnce();
  CHECK((sink.eof || !sink.error.ok()));
  REQUIRE(server);
  CHECK_FALSE(server->isOpen());
  server.reset();
  peer.close();
  listener.close();
  loop.run();
}
