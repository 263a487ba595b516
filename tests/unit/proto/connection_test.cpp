// FramedConnection over real TCP sockets on loopback.
#include <catch2/catch.hpp>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/loop/leak_check.h"
#include "core/loop/tcp.h"
#include "core/proto/backoff.h"
#include "core/proto/connection.h"

using namespace mesh::core;
using nlohmann::json;

namespace {

// Records what a connection delivers; can echo messages back.
struct Recorder : FramedConnection::Handler {
  std::vector<json> messages;
  bool closed = false;
  Status why;
  bool echo = false;
  void onMessage(FramedConnection& connection, json&& message) override {
    if (echo) connection.send({{"type", "echo"}, {"of", message}});
    messages.push_back(std::move(message));
  }
  void onClosed(FramedConnection&, const Status& status) override {
    closed = true;
    why = status;
  }
};

// A raw client: bytes out, bytes in, to speak the protocol badly on purpose.
struct RawClient : StreamSink {
  explicit RawClient(Loop& loop) : stream(loop) {}
  TcpStream stream;
  std::string received;
  bool eof = false;
  void onData(ByteView data) override { received.append(data.data(), data.size()); }
  void onEof() override { eof = true; }
  void onError(const Status&) override { eof = true; }
};

// A listener that wraps each accepted socket in a FramedConnection.
struct Server {
  Server(Loop& loop, Recorder& handler, size_t maxFrame = kDefaultMaxFrameBytes)
      : listener(loop) {
    REQUIRE(listener
                .listen(SocketAddress::loopbackV4(),
                        [&handler, maxFrame, this](std::unique_ptr<TcpStream> stream) {
                          connection = std::make_unique<FramedConnection>(std::move(stream),
                                                                          handler, maxFrame);
                          REQUIRE(connection->start().ok());
                        })
                .ok());
  }
  TcpListener listener;
  std::unique_ptr<FramedConnection> connection;
};

std::unique_ptr<FramedConnection> connectFramed(Loop& loop, uint16_t port, Recorder& handler) {
  auto stream = std::make_unique<TcpStream>(loop);
  bool connected = false;
  REQUIRE(stream->connect(SocketAddress::loopbackV4(port), [&](Status s) {
                  REQUIRE(s.ok());
                  connected = true;
                }).ok());
  REQUIRE(runUntil(loop, [&] { return connected; }));
  auto connection = std::make_unique<FramedConnection>(std::move(stream), handler);
  REQUIRE(connection->start().ok());
  return connection;
}

void connectRaw(Loop& loop, RawClient& client, uint16_t port) {
  bool connected = false;
  REQUIRE(client.stream.connect(SocketAddress::loopbackV4(port), [&](Status s) {
                        REQUIRE(s.ok());
                        connected = true;
                      }).ok());
  REQUIRE(runUntil(loop, [&] { return connected; }));
  REQUIRE(client.stream.startReading(client).ok());
}

// Decodes every frame the raw client received.
std::vector<json> framesOf(const std::string& bytes) {
  std::vector<json> out;
  FrameDecoder decoder;
  decoder.feed(bytes, [&](json&& m) { out.push_back(std::move(m)); });
  return out;
}

}  // namespace

TEST_CASE("messages cross a real connection both ways, and ping gets pong", "[proto]") {
  Loop loop;
  {
    Recorder serverSide, clientSide;
    serverSide.echo = true;
    Server server(loop, serverSide);
    auto client = connectFramed(loop, server.listener.port(), clientSide);
    REQUIRE(client->send({{"type", "hello"}, {"node", "web-1"}}).ok());
    REQUIRE(client->send({{"type", "ping"}}).ok());
    REQUIRE(runUntil(loop, [&] { return clientSide.messages.size() == 2; }));
    CHECK(serverSide.messages.size() == 1);  // ping is answered by the connection itself
    CHECK(serverSide.messages[0]["node"] == "web-1");
    CHECK(clientSide.messages[0]["type"] == "echo");
    CHECK(clientSide.messages[1]["type"] == "pong");

    client->close();
    CHECK(clientSide.closed);
    REQUIRE(runUntil(loop, [&] { return serverSide.closed; }));
    CHECK(serverSide.why.ok());  // orderly close
  }
  REQUIRE(liveHandles(loop).empty());
}

TEST_CASE("garbage from a peer gets an error frame and a close", "[proto]") {
  Loop loop;
  {
    Recorder serverSide;
    Server server(loop, serverSide);
    RawClient raw(loop);
    connectRaw(loop, raw, server.listener.port());
    REQUIRE(raw.stream.write(encodeFrameBytes("{\"type\":\"hello\"") , nullptr).ok());
    REQUIRE(runUntil(loop, [&] { return raw.eof && serverSide.closed; }));
    auto frames = framesOf(raw.received);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0]["type"] == "error");
    CHECK(frames[0]["code"] == "invalid");
    CHECK(serverSide.why.code() == Code::invalid);
    CHECK(serverSide.messages.empty());
  }
  REQUIRE(liveHandles(loop).empty());
}

TEST_CASE("an oversized frame is refused from its header alone", "[proto]") {
  Loop loop;
  {
    Recorder serverSide;
    Server server(loop, serverSide, 4096);
    RawClient raw(loop);
    connectRaw(loop, raw, server.listener.port());
    REQUIRE(raw.stream.write(std::string("\x00\x10\x00\x00{", 5), nullptr).ok());
    REQUIRE(runUntil(loop, [&] { return raw.eof && serverSide.closed; }));
    auto frames = framesOf(raw.received);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0]["code"] == "too_large");
    CHECK(serverSide.why.code() == Code::too_large);
  }
  REQUIRE(liveHandles(loop).empty());
}

TEST_CASE("a peer that hangs up inside a frame is reported", "[proto]") {
  Loop loop;
  {
    Recorder serverSide;
    Server server(loop, serverSide);
    RawClient raw(loop);
    connectRaw(loop, raw, server.listener.port());
    std::string frame = encodeFrame({{"type", "hello"}});
    bool written = false;
    REQUIRE(raw.stream.write(frame.substr(0, frame.size() - 2), [&](Status) { written = true; })
                .ok());
    REQUIRE(runUntil(loop, [&] { return written; }));
    raw.stream.close();
    REQUIRE(runUntil(loop, [&] { return serverSide.closed; }));
    CHECK(serverSide.why.code() == Code::invalid);
  }
  REQUIRE(liveHandles(loop).empty());
}

TEST_CASE("a handler may destroy its connection from inside a callback", "[proto]") {
  Loop loop;
  {
    struct SelfDestroying : Recorder {
      std::unique_ptr<FramedConnection>* owner = nullptr;
      void onMessage(FramedConnection& c, json&& m) override {
        Recorder::onMessage(c, std::move(m));
        owner->reset();  // the second frame in the same read must not be touched
      }
    } serverSide;
    Server server(loop, serverSide);
    serverSide.owner = &server.connection;
    RawClient raw(loop);
    connectRaw(loop, raw, server.listener.port());
    REQUIRE(raw.stream.write(encodeFrame({{"type", "a"}}) + encodeFrame({{"type", "b"}}), nullptr)
                .ok());
    REQUIRE(runUntil(loop, [&] { return raw.eof; }));
    CHECK(serverSide.messages.size() == 1);
    CHECK(server.connection == nullptr);
  }
  REQUIRE(liveHandles(loop).empty());
}

TEST_CASE("backoff doubles up to its ceiling with jitter and resets", "[proto]") {
  using std::chrono::milliseconds;
  Backoff backoff(milliseconds(100), milliseconds(1000), 42);
  std::vector<milliseconds> ceilings;
  for (int i = 0; i < 6; ++i) {
    ceilings.push_back(backoff.ceiling());
    auto delay = backoff.next();
    CHECK(delay >= milliseconds(0));
    CHECK(delay <= ceilings.back());
  }
  CHECK(ceilings == std::vector<milliseconds>{milliseconds(100), milliseconds(200),
                                              milliseconds(400), milliseconds(800),
                                              milliseconds(1000), milliseconds(1000)});
  // Jitter: many draws at the ceiling are not all the same.
  std::set<long> seen;
  for (int i = 0; i < 20; ++i) seen.insert(backoff.next().count());
  CHECK(seen.size() > 10);
  backoff.reset();
  CHECK(backoff.ceiling() == milliseconds(100));
}
