// The HTTP data path in one process: a real client socket, an HttpConnection with its
// filter chain, a pooled upstream connection and a real upstream socket, all on one loop.
// Each test ends with the loop fixture's leak check: no connection, timer or listener may
// be left behind, whichever way the request ended.
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <string>

#include "core/metrics/registry.h"
#include "core/model/snapshot.h"
#include "proxy/http/http_connection.h"
#include "proxy/server/runtime_config.h"
#include "tests/unit/loop/loop_fixture.h"

using namespace mesh;
using namespace mesh::proxy;

namespace {

// An upstream that answers each request head with `reply`, unless `silent`.
class FakeUpstream {
 public:
  explicit FakeUpstream(core::Loop& loop) : loop_(loop), listener_(loop) {
    REQUIRE(listener_
                .listen(core::SocketAddress::loopbackV4(0),
                        [this](std::unique_ptr<core::TcpStream> s) { accept(std::move(s)); })
                .ok());
  }
  uint16_t port() const { return listener_.port(); }
  void close() {
    listener_.close();
    peers_.clear();
  }
  int accepted = 0;
  bool silent = false;
  std::string reply = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

 private:
  struct Peer : core::StreamSink {
    FakeUpstream* owner;
    std::unique_ptr<core::TcpStream> stream;
    std::string buffer;
    void onData(core::ByteView d) override {
      buffer.append(d.data(), d.size());
      size_t end;
      while ((end = buffer.find("\r\n\r\n")) != std::string::npos) {
        buffer.erase(0, end + 4);
        if (!owner->silent) stream->write(owner->reply, {});
      }
    }
    void onEof() override { stream->close(); }
    void onError(const core::Status&) override { stream->close(); }
  };
  void accept(std::unique_ptr<core::TcpStream> s) {
    ++accepted;
    auto peer = std::make_unique<Peer>();
    peer->owner = this;
    peer->stream = std::move(s);
    REQUIRE(peer->stream->startReading(*peer).ok());
    peers_.push_back(std::move(peer));
  }
  core::Loop& loop_;
  core::TcpListener listener_;
  std::vector<std::unique_ptr<Peer>> peers_;
};

// A client socket that collects what it reads.
struct Client : core::StreamSink {
  explicit Client(core::Loop& loop) : stream(loop) {}
  void onData(core::ByteView d) override { received.append(d.data(), d.size()); }
  void onEof() override { eof = true; }
  void onError(const core::Status&) override { eof = true; }
  core::TcpStream stream;
  std::string received;
  bool eof = false;
  bool connected = false;
};

// The proxy side: the config, a worker context and a listener making HttpConnections.
struct ProxyUnderTest {
  ProxyUnderTest(core::Loop& loop, uint16_t upstreamPort, uint32_t timeoutMs = 0)
      : stats(registry), worker(loop, options, stats, 1), listener(loop) {
    nlohmann::json route = {{"route", {{{"cluster", "up"}}}}, {"retries", {{"attempts", 0}}}};
    if (timeoutMs) route["timeoutMs"] = timeoutMs;
    nlohmann::json snap = {
        {"clusters", {{{"name", "up"},
                       {"endpoints", {{{"address", "127.0.0.1"}, {"port", upstreamPort}}}}}}},
        {"routeTables", {{{"name", "rt"},
                          {"virtualHosts", {{{"name", "v"}, {"domains", {"*"}}, {"routes", {route}}}}}}}},
        {"listeners", {{{"name", "out"}, {"routeTable", "rt"}}}}};
    auto parsed = core::model::parseSnapshot(snap);
    REQUIRE(parsed.ok());
    auto config = RuntimeConfig::build(std::make_shared<const core::model::Snapshot>(*parsed),
                                       nullptr, core::Clock::real());
    REQUIRE(config.ok());
    worker.config = *config;
    worker.clusters.update(*worker.config);
    REQUIRE(listener
                .listen(core::SocketAddress::loopbackV4(0),
                        [this](std::unique_ptr<core::TcpStream> s) {
                          auto c = std::make_unique<HttpConnection>(
                              worker, std::move(s), "rt", 0, [this](HttpConnection& dead) {
                                core::deferredDelete(worker.loop, std::move(connections[&dead]));
                                connections.erase(&dead);
                              });
                          HttpConnection* raw = c.get();
                          connections[raw] = std::move(c);
                          raw->start();
                        })
                .ok());
  }
  void close() {
    listener.close();
    while (!connections.empty()) connections.begin()->first->closeNow();
    worker.clusters.clear();
    worker.config.reset();
    // Connections and requests are deleted on the next loop turns; they use `worker`,
    // so they must be gone before this object is.
    for (int i = 0; i < 10; ++i) worker.loop.runNoWait();
  }

  core::metrics::Registry registry;
  ProxyOptions options;
  ProxyStats stats;
  WorkerContext worker;
  core::TcpListener listener;
  std::map<HttpConnection*, std::unique_ptr<HttpConnection>> connections;
};

void connect(test::LoopFixture& f, Client& client, uint16_t port) {
  REQUIRE(client.stream
              .connect(core::SocketAddress::loopbackV4(port),
                       [&client](core::Status s) {
                         REQUIRE(s.ok());
                         client.connected = true;
                       })
              .ok());
  f.runUntil([&] { return client.connected; });
  REQUIRE(client.stream.startReading(client).ok());
}

}  // namespace

TEST_CASE_METHOD(test::LoopFixture, "keep-alive on both sides: two requests, one upstream connection",
                 "[datapath]") {
  FakeUpstream upstream(loop);
  ProxyUnderTest proxy(loop, upstream.port());
  Client client(loop);
  connect(*this, client, proxy.listener.port());
  REQUIRE(client.stream.write(std::string("GET /a HTTP/1.1\r\nHost: svc\r\n\r\n"), {}).ok());
  runUntil([&] { return client.received.find("ok") != std::string::npos; });
  CHECK(client.received.rfind("HTTP/1.1 200", 0) == 0);
  client.received.clear();
  REQUIRE(client.stream.write(std::string("GET /b HTTP/1.1\r\nHost: svc\r\n\r\n"), {}).ok());
  runUntil([&] { return client.received.find("ok") != std::string::npos; });
  CHECK(upstream.accepted == 1);
  client.stream.close();
  runUntil([&] { return proxy.connections.empty(); });
  proxy.close();
  upstream.close();
}

TEST_CASE_METHOD(test::LoopFixture, "a client that leaves mid-request leaves nothing behind",
                 "[datapath]") {
  FakeUpstream upstream(loop);
  upstream.silent = true;
  ProxyUnderTest proxy(loop, upstream.port());
  Client client(loop);
  connect(*this, client, proxy.listener.port());
  REQUIRE(client.stream.write(std::string("GET / HTTP/1.1\r\nHost: svc\r\n\r\n"), {}).ok());
  runUntil([&] { return upstream.accepted == 1; });
  client.stream.close();
  runUntil([&] { return proxy.connections.empty(); });
  // The request's upstream connection goes with it: it was mid-exchange, so not pooled.
  Host& host = *proxy.worker.clusters.find("up")->info->hosts()[0];
  runUntil([&] { return host.activeConnections == 0; });
  CHECK(host.activeRequests == 0);
  proxy.close();
  upstream.close();
}

TEST_CASE_METHOD(test::LoopFixture, "route timeout answers 504 UT and frees the upstream",
                 "[datapath]") {
  FakeUpstream upstream(loop);
  upstream.silent = true;
  ProxyUnderTest proxy(loop, upstream.port(), 100);
  Client client(loop);
  connect(*this, client, proxy.listener.port());
  REQUIRE(client.stream.write(std::string("GET / HTTP/1.1\r\nHost: svc\r\n\r\n"), {}).ok());
  runUntil([&] { return client.received.find("\r\n\r\n") != std::string::npos; });
  CHECK(client.received.rfind("HTTP/1.1 504", 0) == 0);
  CHECK(client.received.find("x-mesh-response-flags: UT") != std::string::npos);
  client.stream.close();
  runUntil([&] { return proxy.connections.empty(); });
  proxy.close();
  upstream.close();
}

TEST_CASE_METHOD(test::LoopFixture, "a malformed request gets 400 DPE and the connection closes",
                 "[datapath]") {
  FakeUpstream upstream(loop);
  ProxyUnderTest proxy(loop, upstream.port());
  Client client(loop);
  connect(*this, client, proxy.listener.port());
  REQUIRE(client.stream.write(std::string("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), {}).ok());
  runUntil([&] { return client.eof; });
  CHECK(client.received.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(client.received.find("x-mesh-response-flags: DPE") != std::string::npos);
  CHECK(upstream.accepted == 0);
  client.stream.close();
  runUntil([&] { return proxy.connections.empty(); });
  proxy.close();
  upstream.close();
}
