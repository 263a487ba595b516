// Root rotation as a mesh lives it: a running CA, two workloads whose certificate managers
// renew on a fake clock, an mTLS connection kept open from start to end, and a new handshake
// probed between every step. Not one handshake may fail.
#include <catch2/catch.hpp>

#include "ca/rotation.h"
#include "core/identity/cert_manager.h"
#include "tests/unit/ca/server_fixture.h"
#include "tests/unit/ca/tls_peer.h"

using namespace mesh;
using namespace std::chrono_literals;
using test::LoopFixture;

namespace {

struct Workload {
  Workload(LoopFixture& fx, test::ServingCa& ca, const char* sa, core::TlsRole role)
      : manager(fx.loop, ca.clock, options(ca, test::spiffe("default", sa))) {
    manager.start();
    fx.runUntil([&] { return manager.issued() == 1; });
    core::TlsOptions tls;
    tls.role = role;
    tls.chain = manager.current()->chain;
    tls.key = manager.current()->key;
    tls.trustBundle = manager.current()->trustBundle;
    tls.clock = &ca.clock;
    auto created = core::TlsContext::create(std::move(tls));
    REQUIRE(created.ok());
    context = *created;
    REQUIRE(manager.attach(context).ok());
  }
  static core::CertificateManagerOptions options(test::ServingCa& ca, const core::SpiffeId& id) {
    core::CertificateManagerOptions o{
        .ca = ca.address(), .caRoots = ca.roots(), .id = id, .token = ca.token(id, 24h)};
    o.ttl = 1h;
    o.checkInterval = 5ms;
    return o;
  }
  core::Certificate leaf() const { return manager.current()->chain.front(); }

  core::CertificateManager manager;
  std::shared_ptr<core::TlsContext> context;
};

}  // namespace

TEST_CASE_METHOD(LoopFixture, "root rotation with live workloads never fails a handshake",
                 "[ca][rotation]") {
  test::ServingCa ca(loop);
  Workload server(*this, ca, "web", core::TlsRole::server);
  Workload client(*this, ca, "shop", core::TlsRole::client);
  test::EchoServer echo(loop, server.context);
  test::EchoClient longLived(*this, echo.address(), *client.context);
  REQUIRE(longLived.handshake().ok());
  auto oldRoot = ca.authority->issuer()->cert;

  int probes = 0;
  auto probe = [&](const char* when) {
    INFO(when);
    test::EchoClient fresh(*this, echo.address(), *client.context);
    CHECK(fresh.handshake().ok());
    CHECK(fresh.roundTrip("probe"));
    CHECK(longLived.roundTrip("alive"));
    ++probes;
  };
  // Renewal of both workloads: past the latest possible due time of either.
  auto renewBoth = [&](const char* when) {
    int s = server.manager.issued(), c = client.manager.issued();
    ca.clock.advance(35min);
    runUntil([&] { return server.manager.issued() > s && client.manager.issued() > c; });
    probe(when);
  };
  auto waitForCa = [&](auto predicate) {
    runUntil([&] { return predicate(*ca.authority->issuer()); });
  };

  probe("before the rotation");

  REQUIRE(ca::beginRootRotation(ca.source, ca.clock).ok());
  waitForCa([](const ca::IssuerMaterial& m) { return m.bundle.size() == 2; });
  probe("new root trusted by the CA, workloads still on the old bundle");
  renewBoth("workloads hold both roots, certificates from the old root");
  CHECK(server.manager.current()->trustBundle.size() == 2);
  CHECK(core::verifyCertificateChain({server.leaf()}, {oldRoot}, ca.clock.now()).ok());

  REQUIRE(ca::activateRootRotation(ca.source.dataDir).ok());
  waitForCa([&](const ca::IssuerMaterial& m) { return !(m.cert == oldRoot); });
  auto newRoot = ca.authority->issuer()->cert;
  probe("new root signs, workloads not yet re-issued");
  renewBoth("workloads re-issued under the new root");
  CHECK(core::verifyCertificateChain({server.leaf()}, {newRoot}, ca.clock.now()).ok());
  CHECK(core::verifyCertificateChain({client.leaf()}, {newRoot}, ca.clock.now()).ok());

  REQUIRE(ca::finishRootRotation(ca.source.dataDir).ok());
  waitForCa([](const ca::IssuerMaterial& m) { return m.bundle.size() == 1; });
  probe("old root removed at the CA");
  renewBoth("workloads hold only the new root");
  REQUIRE(server.manager.current()->trustBundle.size() == 1);
  CHECK(server.manager.current()->trustBundle.front() == newRoot);

  CHECK(probes == 7);
  CHECK(echo.handshakeFailures() == 0);
  CHECK(server.manager.failures() == 0);
  CHECK(client.manager.failures() == 0);
  // The CA's own serving certificate moved to the new root with the rest.
  REQUIRE(ca.server.servingCertificate());
  CHECK(core::verifyCertificateChain({*ca.server.servingCertificate()}, {newRoot}, ca.clock.now())
            .ok());
}
