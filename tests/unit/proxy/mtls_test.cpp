#include <catch2/catch.hpp>

#include <string>

#include "core/loop/loop.h"
#include "core/loop/tcp.h"
#include "proxy/inbound/replay_stream.h"
#include "proxy/mtls/transport_security.h"
#include "tests/unit/tls/pki.h"

using namespace mesh;
using namespace mesh::proxy;
using Mode = core::model::UpstreamTls::Mode;

TEST_CASE("Istio's SNI round trips and bad forms are rejected", "[mtls]") {
  std::string sni = istioSni(9080, "v1", "reviews.default.svc.cluster.local");
  CHECK(sni == "outbound_.9080_.v1_.reviews.default.svc.cluster.local");
  auto parsed = parseIstioSni(sni);
  REQUIRE(parsed);
  CHECK(parsed->port == 9080);
  CHECK(parsed->subset == "v1");
  CHECK(parsed->service == "reviews.default.svc.cluster.local");
  auto noSubset = parseIstioSni(istioSni(80, "", "web"));
  REQUIRE(noSubset);
  CHECK(noSubset->port == 80);
  CHECK(noSubset->subset.empty());
  for (const char* bad :
       {"", "reviews", "inbound_.9080_._.x", "outbound_.0_._.x", "outbound_.70000_._.x",
        "outbound_.90a_._.x", "outbound_.9080_._.", "outbound_.9080_.v1", "outbound_._._.x"}) {
    INFO(bad);
    CHECK_FALSE(parseIstioSni(bad));
  }
}

namespace {

struct Collect final : core::StreamSink {
  std::string data;
  bool eof = false;
  void onData(core::ByteView d) override { data.append(d.data(), d.size()); }
  void onEof() override { eof = true; }
  void onError(const core::Status&) override { eof = true; }
};

}  // namespace

TEST_CASE("a replayed stream delivers the bytes read ahead, then the rest", "[mtls]") {
  core::Loop loop;
  core::TcpListener listener(loop);
  std::unique_ptr<core::Stream> server;
  Collect sink;
  REQUIRE(listener
              .listen(core::SocketAddress::loopbackV4(0),
                      [&](std::unique_ptr<core::TcpStream> s) {
                        server = std::make_unique<ReplayStream>(std::move(s), "\x16 first ");
                        REQUIRE(server->startReading(sink).ok());
                      })
              .ok());
  core::TcpStream client(loop);
  bool connected = false;
  REQUIRE(client
              .connect(core::SocketAddress::loopbackV4(listener.port()),
                       [&](core::Status s) {
                         REQUIRE(s.ok());
                         connected = true;
                         REQUIRE(client.write(std::string("second"), nullptr).ok());
                         REQUIRE(client.shutdown(nullptr).ok());
                       })
              .ok());
  while (!sink.eof && loop.runOnce()) {
  }
  CHECK(connected);
  CHECK(sink.data == "\x16 first second");
  server.reset();
  client.close();
  listener.close();
  loop.run();
}

TEST_CASE("upstream TLS per cluster mode", "[mtls]") {
  core::model::Cluster cluster;
  cluster.name = "outbound|9080|v1|reviews.default.svc.cluster.local";
  cluster.service = "reviews.default.svc.cluster.local";
  cluster.port = 9080;
  cluster.subset = "v1";
  core::model::Endpoint endpoint;
  endpoint.address = "10.0.0.7";
  endpoint.port = 9080;
  endpoint.sidecarPort = 15006;
  endpoint.identity = "spiffe://cluster.local/ns/default/sa/reviews";
  TransportSecurity security;

  SECTION("DISABLE is plain text") {
    auto target = security.upstream(cluster, endpoint);
    CHECK(target.context == nullptr);
    CHECK(target.error.ok());
    CHECK(target.port == 0);
  }
  SECTION("ISTIO_MUTUAL without a workload certificate fails, it never falls back to plain text") {
    cluster.tls.mode = Mode::istio_mutual;
    auto target = security.upstream(cluster, endpoint);
    CHECK(target.context == nullptr);
    CHECK_FALSE(target.error.ok());
    CHECK_THAT(target.error.message(), Catch::Contains("no workload certificate"));
  }
  SECTION("ISTIO_MUTUAL goes to the sidecar port with Istio's SNI and the expected identities") {
    auto ca = test::makeCa("root");
    auto self = test::issue(ca, "spiffe://cluster.local/ns/default/sa/productpage");
    core::TlsOptions options;
    options.chain = self.chain;
    options.key = self.key;
    options.trustBundle = {ca.cert};
    auto client = core::TlsContext::create(options);
    REQUIRE(client.ok());
    options.role = core::TlsRole::server;
    auto server = core::TlsContext::create(options);
    REQUIRE(server.ok());
    security.setWorkload(*server, *client,
                         test::spiffe("spiffe://cluster.local/ns/default/sa/productpage"));
    cluster.tls.mode = Mode::istio_mutual;

    auto target = security.upstream(cluster, endpoint);
    REQUIRE(target.error.ok());
    CHECK(target.context == *client);
    CHECK(target.port == 15006);
    CHECK(target.session.serverName == "outbound_.9080_.v1_.reviews.default.svc.cluster.local");
    REQUIRE(target.session.peer);
    REQUIRE(target.session.peer->allowIds.size() == 1);
    CHECK(target.session.peer->allowIds[0].toString() == endpoint.identity);

    cluster.tls.identities = {"spiffe://cluster.local/ns/default/sa/ratings"};
    target = security.upstream(cluster, endpoint);
    REQUIRE(target.session.peer->allowIds.size() == 1);
    CHECK(target.session.peer->allowIds[0].toString() ==
          "spiffe://cluster.local/ns/default/sa/ratings");

    cluster.tls.identities = {"not a spiffe id"};
    target = security.upstream(cluster, endpoint);
    CHECK_FALSE(target.error.ok());
    CHECK(target.context == nullptr);
  }
  SECTION("SIMPLE with a CA file that does not exist is an error, not an unverified connection") {
    cluster.tls.mode = Mode::simple;
    cluster.tls.caCertificates = "/nonexistent/ca.pem";
    auto target = security.upstream(cluster, endpoint);
    CHECK_FALSE(target.error.ok());
    CHECK(target.context == nullptr);
  }
}
