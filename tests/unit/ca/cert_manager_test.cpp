#include <catch2/catch.hpp>

#include <set>

#include "core/identity/cert_manager.h"
#include "tests/unit/ca/server_fixture.h"
#include "tests/unit/ca/tls_peer.h"

using namespace mesh;
using namespace std::chrono_literals;
using test::LoopFixture;

namespace {
core::CertificateManagerOptions managerOptions(test::ServingCa& ca, const core::SpiffeId& id,
                                               std::chrono::seconds ttl) {
  core::CertificateManagerOptions options{
      .ca = ca.address(), .caRoots = ca.roots(), .id = id, .token = ca.token(id)};
  options.ttl = ttl;
  options.jitter = 0;
  options.checkInterval = 5ms;
  options.seed = 7;
  return options;
}

std::shared_ptr<core::TlsContext> contextFor(const core::IssuedIdentity& identity,
                                             core::TlsRole role, const core::Clock& clock) {
  core::TlsOptions options;
  options.role = role;
  options.chain = identity.chain;
  options.key = identity.key;
  options.trustBundle = identity.trustBundle;
  options.clock = &clock;
  auto context = core::TlsContext::create(std::move(options));
  REQUIRE(context.ok());
  return *context;
}
}  // namespace

TEST_CASE_METHOD(LoopFixture, "the certificate is renewed at half life, not before",
                 "[identity][manager]") {
  test::ServingCa ca(loop);
  core::CertificateManager manager(loop, ca.clock,
                                   managerOptions(ca, test::spiffe("default", "web"), 1h));
  manager.start();
  runUntil([&] { return manager.issued() == 1; });
  auto first = manager.current()->chain.front();
  // The CA dates notBefore 5 min back; half life counts from the issue, not from there.
  CHECK(first.notAfter() - first.notBefore() == 1h + 5min);
  CHECK(manager.nextAttempt() == ca.clock.now() + 30min);

  ca.clock.advance(29min + 59s);
  core::runUntil(
      loop, [] { return false; }, 100ms);  // several check intervals pass
  CHECK(manager.issued() == 1);

  ca.clock.advance(1s);
  runUntil([&] { return manager.issued() == 2; });
  auto second = manager.current()->chain.front();
  CHECK(second.notBefore() == ca.clock.now() - 5min);
  CHECK(second.notAfter() == ca.clock.now() + 1h);
  CHECK(manager.nextAttempt() == ca.clock.now() + 30min);
  CHECK_FALSE(second == first);
  CHECK(manager.failures() == 0);
  CHECK(ca.metrics.issuedCount() == 2);
}

TEST_CASE_METHOD(LoopFixture,
                 "a certificate shorter-lived than the CA's backdating renews at half life",
                 "[identity][manager]") {
  // 4 s of life, notBefore 5 min back: counted from notBefore, half life would be long past
  // and the manager would renew without end.
  test::ServingCa ca(loop);
  core::CertificateManager manager(loop, ca.clock,
                                   managerOptions(ca, test::spiffe("default", "web"), 4s));
  manager.start();
  runUntil([&] { return manager.issued() == 1; });
  CHECK(manager.nextAttempt() == ca.clock.now() + 2s);
  core::runUntil(
      loop, [] { return false; }, 50ms);
  CHECK(manager.issued() == 1);
  ca.clock.advance(2s);
  runUntil([&] { return manager.issued() == 2; });
  CHECK(manager.nextAttempt() == ca.clock.now() + 2s);
}

TEST_CASE_METHOD(LoopFixture, "renewal times are spread by the jitter", "[identity][manager]") {
  test::ServingCa ca(loop);
  std::set<core::Clock::TimePoint> dues;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    auto options = managerOptions(ca, test::spiffe("default", "web"), 1h);
    options.jitter = 0.1;
    options.seed = seed;
    core::CertificateManager manager(loop, ca.clock, options);
    manager.start();
    runUntil([&] { return manager.issued() == 1; });
    auto offset = manager.nextAttempt() - (manager.current()->notAfter - 1h);
    CHECK(offset >= 24min);
    CHECK(offset <= 36min);
    dues.insert(manager.nextAttempt());
  }
  CHECK(dues.size() > 1);
}

TEST_CASE_METHOD(LoopFixture, "while the CA is down the current certificate keeps serving",
                 "[identity][manager]") {
  test::ServingCa ca(loop);
  auto options = managerOptions(ca, test::spiffe("default", "web"), 1h);
  options.initialBackoff = 1s;
  options.maxBackoff = 8s;
  core::CertificateManager manager(loop, ca.clock, options);
  manager.start();
  runUntil([&] { return manager.issued() == 1; });
  auto server = contextFor(*manager.current(), core::TlsRole::server, ca.clock);
  REQUIRE(manager.attach(server).ok());
  auto original = *server->certificate();

  std::uint16_t port = ca.server.port();
  ca.server.stop();
  ca.clock.advance(31min);
  runUntil([&] { return manager.failures() >= 1; });
  for (int i = 0; i < 5; ++i) {  // retries back off: each one only after its delay
    int before = manager.failures();
    auto wait = manager.nextAttempt() - ca.clock.now();
    CHECK(wait <= 8s);
    ca.clock.advance(std::chrono::duration_cast<core::Clock::Duration>(wait));
    runUntil([&] { return manager.failures() > before; });
  }
  CHECK(manager.issued() == 1);
  CHECK(*server->certificate() == original);  // still serving on it
  CHECK(manager.lastError().code() == core::Code::unavailable);

  // The CA comes back on the same address; the next retry succeeds and swaps the certificate.
  auto again = test::ServingCa::quickOptions();
  again.listen = core::SocketAddress::loopbackV4(port);
  ca::CaServer restarted(
      loop, *ca.authority, [&] { return ca::loadIssuer(ca.source, ca.time); }, again, ca.time);
  REQUIRE(restarted.start().ok());
  ca.clock.advance(8s);
  runUntil([&] { return manager.issued() == 2; });
  CHECK_FALSE(*server->certificate() == original);
  CHECK(*server->certificate() == manager.current()->chain.front());
}

TEST_CASE_METHOD(LoopFixture, "an expired certificate falls back to the bootstrap token",
                 "[identity][manager]") {
  test::ServingCa ca(loop);
  auto id = test::spiffe("default", "web");
  auto options = managerOptions(ca, id, 1h);
  options.token = ca.token(id, 48h);
  core::CertificateManager manager(loop, ca.clock, options);
  manager.start();
  runUntil([&] { return manager.issued() == 1; });
  ca.clock.advance(2h);  // asleep through renewal and expiry
  runUntil([&] { return manager.issued() == 2; });
  CHECK(manager.current()->notAfter > ca.clock.now());
}

// Real time: a 10 s certificate renews about every 5 s; one TLS connection stays open across
// three renewals on both ends while new connections see the new certificates.
TEST_CASE_METHOD(LoopFixture, "a live connection survives three renewals (10 s ttl)",
                 "[identity][live]") {
  test::ServingCa ca(loop, test::ServingCa::quickOptions(), /*realTime=*/true);
  auto serverOptions = managerOptions(ca, test::spiffe("default", "web"), 10s);
  serverOptions.checkInterval = 100ms;
  serverOptions.jitter = 0.05;
  auto clientOptions = managerOptions(ca, test::spiffe("default", "client"), 10s);
  clientOptions.checkInterval = 100ms;
  clientOptions.jitter = 0.05;
  core::CertificateManager serverCerts(loop, ca.time, serverOptions);
  core::CertificateManager clientCerts(loop, ca.time, clientOptions);
  serverCerts.start();
  clientCerts.start();
  runUntil([&] { return serverCerts.issued() == 1 && clientCerts.issued() == 1; });
  auto serverContext = contextFor(*serverCerts.current(), core::TlsRole::server, ca.time);
  auto clientContext = contextFor(*clientCerts.current(), core::TlsRole::client, ca.time);
  REQUIRE(serverCerts.attach(serverContext).ok());
  REQUIRE(clientCerts.attach(clientContext).ok());
  test::EchoServer echo(loop, serverContext);

  test::EchoClient longLived(*this, echo.address(), *clientContext);
  REQUIRE(longLived.handshake().ok());
  REQUIRE(longLived.roundTrip("hello"));
  for (int renewal = 2; renewal <= 4; ++renewal) {
    REQUIRE(core::runUntil(
        loop, [&] { return serverCerts.issued() >= renewal && clientCerts.issued() >= renewal; },
        12s));
    INFO("after renewal " << renewal - 1);
    CHECK(longLived.roundTrip("still here " + std::to_string(renewal)));
    test::EchoClient fresh(*this, echo.address(), *clientContext);
    REQUIRE(fresh.handshake().ok());
    CHECK(fresh.roundTrip("new"));
    CHECK(*fresh.peerCertificate() == serverCerts.current()->chain.front());
  }
  // The first certificate has expired by now: the connection lives on what it negotiated.
  CHECK(longLived.roundTrip("goodbye"));
  CHECK(echo.handshakeFailures() == 0);
  CHECK(serverCerts.failures() == 0);
  CHECK(clientCerts.failures() == 0);
}
