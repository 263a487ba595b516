// Channel: reconnect with backoff and dropping a silent server, over real TCP on loopback.
#include <catch2/catch.hpp>

#include <memory>
#include <vector>

#include "core/loop/leak_check.h"
#include "core/loop/tcp.h"
#include "core/proto/channel.h"

using namespace mesh::core;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

Channel::Connector tcpConnector(Loop& loop, uint16_t port) {
  return [&loop, port](Channel::ConnectDone done) {
    auto stream = std::make_unique<TcpStream>(loop);
    TcpStream* raw = stream.get();
    auto shared = std::make_shared<std::unique_ptr<TcpStream>>(std::move(stream));
    Status started = raw->connect(SocketAddress::loopbackV4(port), [shared, done](Status s) {
      if (!s.ok()) {
        Loop& owner = shared->get()->loop();
        deferredDelete(owner, std::move(*shared));
        done(s);
        return;
      }
      done(std::unique_ptr<Stream>(std::move(*shared)));
    });
    if (!started.ok()) done(started);
  };
}

struct Events : Channel::Listener {
  int connected = 0;
  int disconnected = 0;
  std::vector<json> messages;
  Status lastLoss;
  void onConnected(Channel& channel) override {
    ++connected;
    channel.send({{"type", "hello"}, {"n", connected}});
  }
  void onMessage(Channel&, json&& message) override { messages.push_back(std::move(message)); }
  void onDisconnected(Channel&, const Status& why) override {
    ++disconnected;
    lastLoss = why;
  }
};

// Accepts connections and keeps their raw streams; answers nothing unless told to.
struct RawServer : StreamSink {
  explicit RawServer(Loop& loop) : listener(loop) {}
  Status listen(uint16_t port = 0) {
    return listener.listen(SocketAddress::loopbackV4(port), [this](std::unique_ptr<TcpStream> s) {
      s->startReading(*this);
      streams.push_back(std::move(s));
    });
  }
  void onData(ByteView data) override { bytes += data.size(); }
  void onEof() override {}
  void onError(const Status&) override {}
  TcpListener listener;
  std::vector<std::unique_ptr<TcpStream>> streams;
  size_t bytes = 0;
};

Channel::Options fast() {
  Channel::Options options;
  options.initialBackoff = milliseconds(10);
  options.maxBackoff = milliseconds(50);
  options.pingInterval = milliseconds(40);
  return options;
}

}  // namespace

TEST_CASE("a channel keeps retrying until the server appears, then says hello", "[proto]") {
  Loop loop;
  {
    // Find a free port, then leave it closed for a while.
    RawServer server(loop);
    REQUIRE(server.listen().ok());
    uint16_t port = server.listener.port();
    server.listener.close();

    Events events;
    Channel channel(loop, tcpConnector(loop, port), events, fast());
    channel.start();
    REQUIRE(runUntil(loop, [&] { return events.disconnected >= 3; }));
    CHECK(events.connected == 0);
    CHECK(events.lastLoss.code() == Code::unavailable);
    CHECK_FALSE(channel.connected());

    RawServer again(loop);
    REQUIRE(again.listen(port).ok());
    REQUIRE(runUntil(loop, [&] { return events.connected == 1 && again.bytes > 0; }));
    CHECK(channel.connected());
    CHECK(channel.connections() == 1);
  }
  REQUIRE(liveHandles(loop).empty());
}

TEST_CASE("a channel drops a silent server and reconnects", "[proto]") {
  Loop loop;
  {
    RawServer server(loop);  // reads pings, never answers
    REQUIRE(server.listen().ok());
    Events events;
    Channel channel(loop, tcpConnector(loop, server.listener.port()), events, fast());
    channel.start();
    REQUIRE(runUntil(loop, [&] { return events.connected >= 2; }));
    CHECK(events.disconnected >= 1);
    CHECK(events.lastLoss.code() == Code::timeout);
  }
  REQUIRE(liveHandles(loop).empty());
}

TEST_CASE("a channel reconnects when the server closes, and sends nothing while down",
          "[proto]") {
  Loop loop;
  {
    RawServer server(loop);
    REQUIRE(server.listen().ok());
    Events events;
    auto options = fast();
    options.pingInterval = milliseconds(10'000);
    Channel channel(loop, tcpConnector(loop, server.listener.port()), events, options);
    channel.start();
    REQUIRE(runUntil(loop, [&] { return events.connected == 1 && !server.streams.empty(); }));
    server.streams.clear();  // the server hangs up
    REQUIRE(runUntil(loop, [&] { return events.disconnected == 1; }));
    CHECK(channel.send({{"type", "ack"}}).code() == Code::unavailable);
    REQUIRE(runUntil(loop, [&] { return events.connected == 2; }));
    CHECK(channel.connections() == 2);
  }
  REQUIRE(liveHandles(loop).empty());
}
