#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "core/loop/tcp.h"
#include "tests/unit/loop/loop_fixture.h"

using namespace mesh::core;
using mesh::test::LoopFixture;

namespace {

// Collects what a stream reads.
struct Collector : StreamSink {
  std::string data;
  bool eof = false;
  Status error;
  void onData(ByteView bytes) override { data.append(bytes.data(), bytes.size()); }
  void onEof() override { eof = true; }
  void onError(const Status& status) override { error = status; }
};

// Echoes every byte back; on EOF half-closes in turn.
class EchoServer {
 public:
  EchoServer(Loop& loop, const SocketAddress& address) : listener_(loop) {
    Status st = listener_.listen(address, [this](std::unique_ptr<TcpStream> stream) {
      auto conn = std::make_unique<Connection>(std::move(stream));
      REQUIRE(conn->stream->startReading(*conn).ok());
      connections.push_back(std::move(conn));
    });
    REQUIRE(st.ok());
  }
  std::uint16_t port() const { return listener_.port(); }

  struct Connection : StreamSink {
    explicit Connection(std::unique_ptr<TcpStream> s) : stream(std::move(s)) {}
    void onData(ByteView bytes) override {
      REQUIRE(stream->write(std::string(bytes.data(), bytes.size()), nullptr).ok());
    }
    void onEof() override {
      sawEof = true;
      REQUIRE(stream->shutdown(nullptr).ok());
    }
    void onError(const Status&) override {}
    std::unique_ptr<TcpStream> stream;
    bool sawEof = false;
  };
  std::vector<std::unique_ptr<Connection>> connections;

 private:
  TcpListener listener_;
};

// A connection over loopback whose accepting end does not read yet.
struct ConnectedPair {
  std::unique_ptr<TcpListener> listener;
  std::unique_ptr<TcpStream> receiver;
  std::unique_ptr<TcpStream> sender;
};

ConnectedPair connectedPair(LoopFixture& f) {
  ConnectedPair p{std::make_unique<TcpListener>(f.loop), nullptr,
                  std::make_unique<TcpStream>(f.loop)};
  REQUIRE(p.listener
              ->listen(SocketAddress::loopbackV4(),
                       [&](std::unique_ptr<TcpStream> s) { p.receiver = std::move(s); })
              .ok());
  bool connected = false;
  REQUIRE(p.sender
              ->connect(SocketAddress::loopbackV4(p.listener->port()),
                        [&](Status st) { connected = st.ok(); })
              .ok());
  f.runUntil([&] { return connected && p.receiver; });
  return p;
}

}  // namespace

TEST_CASE_METHOD(LoopFixture, "TCP echo round trip on IPv4 and IPv6 loopback", "[loop][tcp]") {
  auto address = GENERATE(SocketAddress::loopbackV4(), SocketAddress::loopbackV6());
  INFO("listening on " << address.ip());
  EchoServer server(loop, address);
  REQUIRE(server.port() != 0);

  TcpStream client(loop);
  Collector got;
  bool connected = false;
  REQUIRE(client
              .connect(address.withPort(server.port()),
                       [&](Status st) {
                         REQUIRE(st.ok());
                         connected = true;
                       })
              .ok());
  runUntil([&] { return connected; });
  CHECK(client.peerAddress() == address.withPort(server.port()));
  CHECK(client.localAddress().family() == address.family());
  CHECK(client.localAddress().port() != 0);

  REQUIRE(client.startReading(got).ok());
  std::string head = "GET / HTTP/1.1\r\n", body = "hello over ", ip = address.ip();
  ByteView parts[] = {head, body, ip};
  bool written = false;
  REQUIRE(client.write(parts, [&](Status st) { written = st.ok(); }).ok());
  runUntil([&] { return got.data.size() == head.size() + body.size() + ip.size(); });
  CHECK(written);
  CHECK(got.data == head + body + ip);
  REQUIRE(server.connections.size() == 1);
  CHECK(server.connections[0]->stream->peerAddress() == client.localAddress());

  // Half-close: the server sees EOF, answers with its own shutdown, and we see EOF.
  REQUIRE(client.shutdown(nullptr).ok());
  runUntil([&] { return got.eof; });
  CHECK(server.connections[0]->sawEof);
  CHECK(got.error.ok());
}

TEST_CASE_METHOD(LoopFixture, "A peer that closes is seen as EOF", "[loop][tcp]") {
  TcpListener listener(loop);
  std::unique_ptr<TcpStream> accepted;
  REQUIRE(listener
              .listen(SocketAddress::loopbackV4(),
                      [&](std::unique_ptr<TcpStream> s) { accepted = std::move(s); })
              .ok());
  TcpStream client(loop);
  Collector got;
  REQUIRE(client
              .connect(SocketAddress::loopbackV4(listener.port()),
                       [&](Status st) {
                         REQUIRE(st.ok());
                         REQUIRE(client.startReading(got).ok());
                       })
              .ok());
  runUntil([&] { return accepted != nullptr; });
  REQUIRE(accepted->write(std::string("bye"), nullptr).ok());
  accepted.reset();  // close with the write possibly still queued: it is dropped or sent
  runUntil([&] { return got.eof || !got.error.ok(); });
  CHECK(got.eof);
  CHECK(got.error.ok());
}

TEST_CASE_METHOD(LoopFixture, "A stream may destroy itself from inside its read callbacks",
                 "[loop][tcp]") {
  // The server side deletes its connection in onData (first byte) or in onEof.
  struct SelfDestruct : StreamSink {
    std::unique_ptr<TcpStream> stream;
    bool onFirstByte = false;
    int* gone = nullptr;
    void onData(ByteView) override {
      if (!onFirstByte) return;
      stream.reset();
      ++*gone;
    }
    void onEof() override {
      stream.reset();
      ++*gone;
    }
    void onError(const Status&) override {}
  };
  int gone = 0;
  std::vector<std::unique_ptr<SelfDestruct>> sinks;
  TcpListener listener(loop);
  REQUIRE(listener
              .listen(SocketAddress::loopbackV4(),
                      [&](std::unique_ptr<TcpStream> s) {
                        auto sink = std::make_unique<SelfDestruct>();
                        sink->stream = std::move(s);
                        sink->onFirstByte = sinks.empty();
                        sink->gone = &gone;
                        REQUIRE(sink->stream->startReading(*sink).ok());
                        sinks.push_back(std::move(sink));
                      })
              .ok());
  TcpStream first(loop), second(loop);
  bool firstUp = false;
  REQUIRE(first
              .connect(SocketAddress::loopbackV4(listener.port()),
                       [&](Status st) {
                         REQUIRE(st.ok());
                         firstUp = true;
                       })
              .ok());
  runUntil([&] { return firstUp && sinks.size() == 1; });
  REQUIRE(first.write(std::string(200'000, 'a'), nullptr).ok());
  REQUIRE(second
              .connect(SocketAddress::loopbackV4(listener.port()),
                       [&](Status st) {
                         REQUIRE(st.ok());
                         REQUIRE(second.shutdown(nullptr).ok());
                       })
              .ok());
  runUntil([&] { return gone == 2; });
  loop.runNoWait();
  CHECK(gone == 2);
}

TEST_CASE_METHOD(LoopFixture, "Connecting to a closed port fails with unavailable", "[loop][tcp]") {
  auto address = GENERATE(SocketAddress::loopbackV4(), SocketAddress::loopbackV6());
  std::uint16_t port;
  {
    TcpListener probe(loop);
    REQUIRE(probe.listen(address, nullptr).ok());
    port = probe.port();
  }
  TcpStream client(loop);
  Status result;
  bool called = false;
  REQUIRE(client
              .connect(address.withPort(port),
                       [&](Status st) {
                         called = true;
                         result = st;
                       })
              .ok());
  runUntil([&] { return called; });
  CHECK(result.code() == Code::unavailable);
  CHECK(result.message().find("ECONNREFUSED") != std::string::npos);
}

TEST_CASE_METHOD(LoopFixture, "No callback fires after the stream is destroyed", "[loop][tcp]") {
  TcpListener probe(loop);
  REQUIRE(probe.listen(SocketAddress::loopbackV4(), nullptr).ok());
  std::uint16_t closedPort = 0;
  {
    TcpListener gone(loop);
    REQUIRE(gone.listen(SocketAddress::loopbackV4(), nullptr).ok());
    closedPort = gone.port();
  }
  bool called = false;
  {
    auto refused = std::make_unique<TcpStream>(loop);
    REQUIRE(refused->connect(SocketAddress::loopbackV4(closedPort), [&](Status) { called = true; })
                .ok());
    auto pending = std::make_unique<TcpStream>(loop);
    REQUIRE(
        pending->connect(SocketAddress::loopbackV4(probe.port()), [&](Status) { called = true; })
            .ok());
    REQUIRE(pending->write(std::string(1 << 20, 'x'), [&](Status) { called = true; }).ok());
  }
  loop.runNoWait();
  loop.runNoWait();
  CHECK_FALSE(called);
}

TEST_CASE_METHOD(LoopFixture, "A call that fails returns an error and never calls back",
                 "[loop][tcp]") {
  TcpStream stream(loop);
  bool called = false;
  // Writing on a stream that never connected.
  Status st = stream.write(std::string("x"), [&](Status) { called = true; });
  CHECK_FALSE(st.ok());
  stream.close();
  CHECK_FALSE(stream.isOpen());
  CHECK(stream.connect(SocketAddress::loopbackV4(1), [&](Status) { called = true; }).code() ==
        Code::unavailable);
  loop.runNoWait();
  CHECK_FALSE(called);

  TcpListener first(loop);
  REQUIRE(first.listen(SocketAddress::loopbackV4(), nullptr).ok());
  TcpListener second(loop);
  CHECK(second.listen(SocketAddress::loopbackV4(first.port()), nullptr).code() ==
        Code::unavailable);
}

TEST_CASE_METHOD(LoopFixture, "SO_REUSEPORT lets two listeners share a port", "[loop][tcp]") {
  ListenOptions shared;
  shared.reusePort = true;
  TcpListener a(loop), b(loop);
  int accepted = 0;
  auto onAccept = [&](std::unique_ptr<TcpStream>) { ++accepted; };
  REQUIRE(a.listen(SocketAddress::loopbackV6(), onAccept, shared).ok());
  REQUIRE(b.listen(SocketAddress::loopbackV6(a.port()), onAccept, shared).ok());
  CHECK(a.port() == b.port());
  TcpListener plain(loop);
  CHECK_FALSE(plain.listen(SocketAddress::loopbackV6(a.port()), nullptr).ok());

  std::vector<std::unique_ptr<TcpStream>> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(std::make_unique<TcpStream>(loop));
    REQUIRE(clients.back()->connect(SocketAddress::loopbackV6(a.port()), nullptr).ok());
  }
  runUntil([&] { return accepted == 4; });
}

TEST_CASE_METHOD(LoopFixture, "A write of several MB goes through with back-pressure",
                 "[loop][tcp]") {
  constexpr std::size_t kTotal = 8 << 20, kChunk = 256 << 10, kHighWater = 1 << 20;
  std::string pattern(kTotal, '\0');
  for (std::size_t i = 0; i < kTotal; ++i) pattern[i] = static_cast<char>((i * 131 + i / 7) & 0xff);

  // The receiver starts slow (not reading) so the sender's queue must grow.
  auto [listener, receiver, sender] = connectedPair(*this);
  Collector received;

  std::size_t offset = 0, completed = 0, maxQueued = 0;
  int pausedTimes = 0;
  std::function<void()> pump = [&] {
    while (offset < kTotal && sender->writeQueueSize() < kHighWater) {
      std::string_view chunk = std::string_view(pattern).substr(offset, kChunk);
      ByteView parts[] = {chunk.substr(0, 1000), chunk.substr(1000)};
      offset += chunk.size();
      REQUIRE(sender
                  ->write(parts,
                         [&, size = chunk.size()](Status st) {
                           REQUIRE(st.ok());
                           completed += size;
                           pump();
                         })
                  .ok());
      maxQueued = std::max(maxQueued, sender->writeQueueSize());
    }
    if (offset < kTotal) ++pausedTimes;
  };
  pump();
  // Let the sender fill the socket buffers while nobody reads.
  runUntil([&] { return sender->writeQueueSize() >= kHighWater; });
  CHECK(completed < kTotal);
  REQUIRE(receiver->startReading(received).ok());
  runUntil([&] { return received.data.size() == kTotal; });
  CHECK(completed == kTotal);
  CHECK(maxQueued >= kHighWater);
  CHECK(pausedTimes > 0);
  CHECK(received.data == pattern);
}

TEST_CASE_METHOD(LoopFixture, "writeCopy keeps what the socket did not take: the caller's buffer is free at once",
                 "[loop][tcp]") {
  // One buffer serves every write and is overwritten right after each one, while the receiver
  // does not read: most of the bytes cannot leave at once and must have been copied.
  constexpr std::size_t kWrites = 64, kSize = 64 << 10;
  auto [listener, receiver, sender] = connectedPair(*this);
  Collector received;

  std::string expected, buffer;
  std::size_t done = 0;
  for (std::size_t i = 0; i < kWrites; ++i) {
    buffer.assign(kSize, static_cast<char>('a' + i % 26));
    expected += buffer;
    ByteView parts[] = {ByteView(buffer).first(100), ByteView(buffer).subspan(100)};
    REQUIRE(sender->writeCopy(parts, [&](Status st) { done += st.ok() ? 1 : 0; }).ok());
    buffer.assign(kSize, '!');  // what the peer must never see
  }
  CHECK(sender->writeQueueSize() > 0);
  REQUIRE(receiver->startReading(received).ok());
  runUntil([&] { return received.data.size() == expected.size() && done == kWrites; });
  CHECK(received.data == expected);
}
