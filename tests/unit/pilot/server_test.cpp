#include <catch2/catch.hpp>

#include <optional>

#include "core/loop/timer.h"
#include "core/proto/connection.h"
#include "core/tls/tls_stream.h"
#include "pilot/debug/debug_pages.h"
#include "pilot/server/discovery_server.h"
#include "tests/unit/ca/ca_fixture.h"
#include "tests/unit/loop/loop_fixture.h"
#include "tests/unit/pilot/pilot_fixture.h"

using namespace mesh;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// TLS material for one identity, issued by the test CA.
std::shared_ptr<core::TlsContext> contextFor(test::CaUnderTest& ca, const core::SpiffeId& id,
                                             core::TlsRole role) {
  auto key = test::newKey();
  auto issued = ca.signer->issue(*ca.authority->issuer(), key.publicKey(), id, std::chrono::hours(1));
  REQUIRE(issued.ok());
  core::TlsOptions options;
  options.role = role;
  options.chain = issued->chain;
  options.key = key;
  options.trustBundle = issued->bundle;
  options.peer.trustDomain = "cluster.local";
  options.clock = &ca.time;
  auto context = core::TlsContext::create(std::move(options));
  REQUIRE(context.ok());
  return *context;
}

// A proxy's end of one connection: frames in, frames out, and whether it was closed.
struct RawProxy final : core::FramedConnection::Handler {
  std::vector<json> received;
  std::optional<core::Status> closed;
  std::unique_ptr<core::FramedConnection> connection;
  void onMessage(core::FramedConnection&, json&& message) override { received.push_back(std::move(message)); }
  void onClosed(core::FramedConnection&, const core::Status& why) override { closed = why; }
  bool has(const std::string& type) const {
    for (const auto& m : received) {
      if (m["type"] == type) return true;
    }
    return false;
  }
  const json* last(const std::string& type) const {
    for (auto it = received.rbegin(); it != received.rend(); ++it) {
      if ((*it)["type"] == type) return &*it;
    }
    return nullptr;
  }
};

struct ServerFixture : test::LoopFixture {
  test::CaUnderTest ca{"cluster.local", true};
  core::metrics::Registry registry;
  pilot::PushMetrics metrics{registry};
  std::unique_ptr<pilot::Pusher> pusher;
  std::unique_ptr<pilot::DiscoveryServer> server;

  explicit ServerFixture(std::chrono::milliseconds keepalive = 5s) {
    pusher = std::make_unique<pilot::Pusher>(loop, metrics, pilot::PusherOptions{});
    pusher->setConfig(test::configFrom(R"(apiVersion: v1
kind: Service
metadata: {name: reviews}
spec:
  selector: {app: reviews}
  ports: [{port: 9080, name: http}]
)"), loop.now());
    pilot::DiscoveryServerOptions options;
    options.listen = core::SocketAddress::loopbackV4(0);
    options.keepalive = keepalive;
    options.helloTimeout = 500ms;
    server = std::make_unique<pilot::DiscoveryServer>(
        loop, contextFor(ca, test::spiffe("mesh-system", "mesh-pilot"), core::TlsRole::server), *pusher,
        metrics, options);
    REQUIRE(server->start().ok());
  }
  ~ServerFixture() {
    server.reset();
    pusher.reset();
  }

  void connect(RawProxy& proxy, const core::SpiffeId& id) {
    auto context = contextFor(ca, id, core::TlsRole::client);
    std::optional<core::Status> handshake;
    auto tls = core::TlsStream::connect(loop, core::SocketAddress::loopbackV4(server->port()), *context, {},
                                        [&](core::Status s) { handshake = s; });
    REQUIRE(tls.ok());
    runUntil([&] { return handshake.has_value(); });
    REQUIRE(handshake->ok());
    proxy.connection = std::make_unique<core::FramedConnection>(std::move(*tls), proxy);
    REQUIRE(proxy.connection->start().ok());
  }

  std::uint64_t refusals(const std::string& reason) { return metrics.refusals.series({reason}).value(); }
};

json hello(const std::string& ns, const std::string& sa, const std::string& address = "10.0.0.3") {
  return {{"type", "hello"}, {"node", "reviews-v1." + ns}, {"namespace", ns}, {"service_account", sa},
          {"labels", {{"app", "reviews"}}}, {"address", address}, {"ports", {9080}}};
}

}  // namespace

TEST_CASE_METHOD(ServerFixture, "a proxy says hello over mTLS, gets its snapshot and ACKs it", "[pilot][server]") {
  RawProxy proxy;
  connect(proxy, test::spiffe("default", "reviews"));
  REQUIRE(proxy.connection->send(hello("default", "reviews")).ok());
  runUntil([&] { return proxy.has("snapshot"); });
  const json& snapshot = *proxy.last("snapshot");
  auto parsed = core::model::parseSnapshot(snapshot["config"]);
  REQUIRE(parsed.ok());
  CHECK(parsed->findCluster("outbound|9080||reviews.default.svc.cluster.local"));

  REQUIRE(proxy.connection->send({{"type", "ack"}, {"version", snapshot["version"]}}).ok());
  runUntil([&] { return pilot::syncState(pusher->syncStatus().at(0)) == "SYNCED"; });
  auto status = pusher->syncStatus()[0];
  CHECK(status.identity == "spiffe://cluster.local/ns/default/sa/reviews");
  // ping is answered; unknown types get an error but the connection stays.
  REQUIRE(proxy.connection->send({{"type", "ping"}}).ok());
  REQUIRE(proxy.connection->send({{"type", "frobnicate"}}).ok());
  runUntil([&] { return proxy.has("pong") && proxy.has("error"); });
  CHECK_FALSE(proxy.closed);
  // Ready: the proxy's own endpoint is registered.
  runUntil([&] { return pusher->workloads().size() == 1; });
  proxy.connection.reset();
  runUntil([&] { return server->connectionCount() == 0; });
}

TEST_CASE_METHOD(ServerFixture, "a proxy cannot say hello for another identity", "[pilot][server]") {
  RawProxy proxy;
  connect(proxy, test::spiffe("default", "ratings"));
  REQUIRE(proxy.connection->send(hello("default", "reviews")).ok());
  runUntil([&] { return proxy.closed.has_value(); });
  REQUIRE(proxy.has("error"));
  CHECK(proxy.last("error")->at("code") == "denied");
  CHECK(refusals("identity_mismatch") == 1);
  CHECK(pusher->proxies() == 0);
  CHECK(pusher->workloads().size() == 0);
}

TEST_CASE_METHOD(ServerFixture, "a peer without a mesh certificate is refused in the handshake", "[pilot][server]") {
  test::CaUnderTest other;  // another root: the server does not trust it
  auto context = contextFor(other, test::spiffe("default", "reviews"), core::TlsRole::client);
  std::optional<core::Status> handshake;
  std::optional<core::Status> readEnd;
  struct Sink final : core::StreamSink {
    std::optional<core::Status>* end;
    void onData(core::ByteView) override {}
    void onEof() override { *end = core::Status(); }
    void onError(const core::Status& s) override { *end = s; }
  } sink;
  sink.end = &readEnd;
  auto tls = core::TlsStream::connect(loop, core::SocketAddress::loopbackV4(server->port()), *context, {},
                                      [&](core::Status s) { handshake = s; });
  REQUIRE(tls.ok());
  REQUIRE((*tls)->startReading(sink).ok());
  // The client fails verifying the server (other root) or the server refuses the client.
  runUntil([&] { return (handshake && !handshake->ok()) || readEnd.has_value(); });
  runUntil([&] { return refusals("tls") == 1; });
  CHECK(pusher->proxies() == 0);
  tls->reset();
}

TEST_CASE_METHOD(ServerFixture, "a connection that never says hello is closed", "[pilot][server]") {
  RawProxy proxy;
  connect(proxy, test::spiffe("default", "reviews"));
  runUntil([&] { return proxy.closed.has_value(); });
  CHECK(proxy.last("error")->at("code") == "timeout");
  CHECK(refusals("hello_timeout") == 1);
}

TEST_CASE_METHOD(ServerFixture, "a malformed hello is refused with the reason", "[pilot][server]") {
  RawProxy proxy;
  connect(proxy, test::spiffe("default", "reviews"));
  json bad = hello("default", "reviews");
  bad["ports"] = {70000};
  REQUIRE(proxy.connection->send(bad).ok());
  runUntil([&] { return proxy.closed.has_value(); });
  CHECK(proxy.last("error")->at("reason").get<std::string>().find("port") != std::string::npos);
  CHECK(refusals("bad_hello") == 1);
}

struct QuickKeepalive : ServerFixture {
  QuickKeepalive() : ServerFixture(100ms) {}
};

TEST_CASE_METHOD(QuickKeepalive, "a proxy that goes silent is dropped and its endpoint leaves", "[pilot][server]") {
  RawProxy proxy;
  connect(proxy, test::spiffe("default", "reviews"));
  REQUIRE(proxy.connection->send(hello("default", "reviews")).ok());
  runUntil([&] { return proxy.has("snapshot"); });
  REQUIRE(proxy.connection->send({{"type", "ack"}, {"version", proxy.last("snapshot")->at("version")}}).ok());
  // Hung from here on (it reads nothing, so it answers no ping either): three 100 ms
  // intervals later the server closes.
  proxy.connection->stream().stopReading();
  runUntil([&] { return refusals("silent") == 1; });
  runUntil([&] { return pusher->proxies() == 0; });
  CHECK(pusher->workloads().leaving("reviews-v1.default"));
}

TEST_CASE_METHOD(QuickKeepalive, "a quiet proxy that answers pilot's pings stays connected", "[pilot][server]") {
  RawProxy proxy;
  connect(proxy, test::spiffe("default", "reviews"));
  REQUIRE(proxy.connection->send(hello("default", "reviews")).ok());
  runUntil([&] { return proxy.has("snapshot"); });
  // It never pings on its own; its connection answers pilot's pings with pongs.
  core::Timer wait(loop);
  bool waited = false;
  wait.start(600ms, [&] { waited = true; });
  runUntil([&] { return waited; });
  CHECK_FALSE(proxy.closed.has_value());
  CHECK(refusals("silent") == 0);
  CHECK(pusher->proxies() == 1);
}

TEST_CASE_METHOD(ServerFixture, "a reconnecting proxy replaces its old connection", "[pilot][server]") {
  RawProxy first, second;
  connect(first, test::spiffe("default", "reviews"));
  REQUIRE(first.connection->send(hello("default", "reviews")).ok());
  runUntil([&] { return first.has("snapshot"); });
  connect(second, test::spiffe("default", "reviews"));
  REQUIRE(second.connection->send(hello("default", "reviews")).ok());
  runUntil([&] { return second.has("snapshot") && first.closed.has_value(); });
  CHECK(pusher->proxies() == 1);
  second.connection.reset();
  runUntil([&] { return server->connectionCount() == 0; });
}
