// TlsSession engine tests: two sessions pumped into each other in memory. The same scenarios
// over real sockets are in tls_stream_test.cpp.
#include <catch2/catch.hpp>

#include "core/tls/context.h"
#include "core/tls/session.h"
#include "tests/unit/tls/pki.h"

using namespace mesh::core;
using namespace mesh::test;

namespace {

struct Pair {
  std::unique_ptr<TlsSession> client;
  std::unique_ptr<TlsSession> server;
  std::string clientGot{}, serverGot{};
  Status clientStatus{}, serverStatus{};

  // Moves bytes both ways until neither side has anything to send.
  void pump() {
    for (int round = 0; round < 20; ++round) {
      bool moved = false;
      if (client->hasOutput()) {
        std::string bytes = client->takeOutput();
        Status s = server->receive(bytes, serverGot);
        if (serverStatus.ok()) serverStatus = s;
        moved = true;
      }
      if (server->hasOutput()) {
        std::string bytes = server->takeOutput();
        Status s = client->receive(bytes, clientGot);
        if (clientStatus.ok()) clientStatus = s;
        moved = true;
      }
      if (!moved) return;
    }
  }
};

Pair connect(TlsContext& clientCtx, TlsContext& serverCtx, const TlsSessionOptions& options = {}) {
  Pair p;
  auto c = clientCtx.newSession(options);
  auto s = serverCtx.newSession();
  REQUIRE(c.ok());
  REQUIRE(s.ok());
  p.client = std::move(*c);
  p.server = std::move(*s);
  REQUIRE(p.client->start().ok());
  p.pump();
  return p;
}

std::shared_ptr<TlsContext> context(TlsRole role, const Identity* id, CertificateList bundle,
                                    std::vector<std::string> alpn = {}) {
  TlsOptions o;
  o.role = role;
  if (id) {
    o.chain = id->chain;
    o.key = id->key;
  }
  o.trustBundle = std::move(bundle);
  o.alpn = std::move(alpn);
  auto ctx = TlsContext::create(std::move(o));
  INFO(ctx.status().toString());
  REQUIRE(ctx.ok());
  return *ctx;
}

}  // namespace

TEST_CASE("in-memory mutual TLS: identities, data both ways, close_notify", "[tls][session]") {
  Ca ca = makeCa("Root");
  Identity serverId = issue(ca, "spiffe://cluster.local/ns/default/sa/server");
  Identity clientId = issue(ca, "spiffe://cluster.local/ns/default/sa/client");
  auto serverCtx = context(TlsRole::server, &serverId, {ca.cert}, {"h2", "http/1.1"});
  auto clientCtx = context(TlsRole::client, &clientId, {ca.cert}, {"http/1.1"});

  Pair p = connect(*clientCtx, *serverCtx, {.serverName = "server.default.svc"});
  INFO(p.clientStatus.toString() << " / " << p.serverStatus.toString());
  REQUIRE(p.clientStatus.ok());
  REQUIRE(p.serverStatus.ok());
  REQUIRE(p.client->state() == TlsSession::State::established);
  REQUIRE(p.server->state() == TlsSession::State::established);
  CHECK(p.client->peerId()->toString() == "spiffe://cluster.local/ns/default/sa/server");
  CHECK(p.server->peerId()->toString() == "spiffe://cluster.local/ns/default/sa/client");
  CHECK(p.client->alpn() == "http/1.1");
  CHECK(p.server->alpn() == "http/1.1");
  CHECK(p.server->serverName() == "server.default.svc");
  CHECK(p.client->version() == "TLSv1.3");
  CHECK(p.client->group() == "X25519");
  CHECK(p.client->cipher().find("GCM") != std::string::npos);
  CHECK(p.server->peerChain().size() == 1);

  std::string big(100000, 'x');
  REQUIRE(p.client->send("hello ").ok());
  REQUIRE(p.client->send(big).ok());
  REQUIRE(p.server->send("world").ok());
  p.pump();
  CHECK(p.serverGot == "hello " + big);
  CHECK(p.clientGot == "world");
  // The 100 kB went through both sessions' buffers; drained, they hold nothing of it.
  CHECK(p.client->bufferCapacity() == 0);
  CHECK(p.server->bufferCapacity() == 0);

  p.client->close();
  p.pump();
  CHECK(p.server->state() == TlsSession::State::closed);
  CHECK(p.server->peerClosedCleanly());
  CHECK_FALSE(p.client->send("more").ok());
}

TEST_CASE("in-memory: writes before the handshake are queued", "[tls][session]") {
  Ca ca = makeCa("Root");
  Identity serverId = issue(ca, "spiffe://td/ns/a/sa/server");
  Identity clientId = issue(ca, "spiffe://td/ns/a/sa/client");
  auto serverCtx = context(TlsRole::server, &serverId, {ca.cert});
  auto clientCtx = context(TlsRole::client, &clientId, {ca.cert});
  auto c = clientCtx->newSession();
  auto s = serverCtx->newSession();
  REQUIRE(c.ok());
  REQUIRE(s.ok());
  Pair p{std::move(*c), std::move(*s)};
  REQUIRE(p.client->send("early").ok());
  REQUIRE(p.client->start().ok());
  p.pump();
  REQUIRE(p.clientStatus.ok());
  REQUIRE(p.serverStatus.ok());
  CHECK(p.serverGot == "early");
}

TEST_CASE("in-memory: untrusted server refused with a readable reason", "[tls][session]") {
  Ca ca = makeCa("Root");
  Ca rogue = makeCa("Rogue");
  Identity serverId = issue(rogue, "spiffe://td/ns/a/sa/server");
  Identity clientId = issue(ca, "spiffe://td/ns/a/sa/client");
  auto serverCtx = context(TlsRole::server, &serverId, {ca.cert});
  auto clientCtx = context(TlsRole::client, &clientId, {ca.cert});
  Pair p = connect(*clientCtx, *serverCtx);
  CHECK(p.client->state() == TlsSession::State::failed);
  CHECK(p.clientStatus.code() == Code::denied);
  CHECK(p.clientStatus.message() ==
        "certificate verify failed: unable to get local issuer certificate");
  CHECK(p.server->state() == TlsSession::State::failed);
  CHECK(p.serverStatus.message() == "peer sent alert: unknown ca");
}

TEST_CASE("in-memory: session resumption with tickets, and a swap ends it", "[tls][session]") {
  Ca ca = makeCa("Root");
  Identity serverId = issue(ca, "spiffe://td/ns/a/sa/server");
  Identity clientId = issue(ca, "spiffe://td/ns/a/sa/client");
  auto serverCtx = context(TlsRole::server, &serverId, {ca.cert});
  auto clientCtx = context(TlsRole::client, &clientId, {ca.cert});
  {
    Pair first = connect(*clientCtx, *serverCtx, {.serverName = "svc"});
    REQUIRE(first.clientStatus.ok());
    CHECK_FALSE(first.client->resumed());
  }
  Pair second = connect(*clientCtx, *serverCtx, {.serverName = "svc"});
  REQUIRE(second.clientStatus.ok());
  REQUIRE(second.serverStatus.ok());
  CHECK(second.client->resumed());
  CHECK(second.server->resumed());
  // A resumed session still reports (and checked) the peer's identity.
  CHECK(second.client->peerId()->toString() == "spiffe://td/ns/a/sa/server");
  CHECK(second.server->peerId()->toString() == "spiffe://td/ns/a/sa/client");

  // The policy applies to resumed sessions too.
  PeerPolicy only;
  only.allowIds = {spiffe("spiffe://td/ns/a/sa/other")};
  Pair refused = connect(*clientCtx, *serverCtx, {.serverName = "svc", .peer = only});
  CHECK(refused.client->state() == TlsSession::State::failed);
  CHECK(refused.clientStatus.code() == Code::denied);

  // After a server swap, old tickets no longer resume.
  Identity serverId2 = issue(ca, "spiffe://td/ns/a/sa/server");
  {
    Pair warm = connect(*clientCtx, *serverCtx, {.serverName = "svc2"});
    REQUIRE(warm.clientStatus.ok());
  }
  REQUIRE(serverCtx->updateCredentials(serverId2.chain, serverId2.key).ok());
  Pair after = connect(*clientCtx, *serverCtx, {.serverName = "svc2"});
  REQUIRE(after.clientStatus.ok());
  CHECK_FALSE(after.client->resumed());
  CHECK(*after.client->peerCertificate() == serverId2.chain[0]);
}

TEST_CASE("in-memory: peer policy by trust domain and id", "[tls][session]") {
  Ca ca = makeCa("Root");
  Identity serverId = issue(ca, "spiffe://other.domain/ns/a/sa/server");
  Identity clientId = issue(ca, "spiffe://td/ns/a/sa/client");
  auto serverCtx = context(TlsRole::server, &serverId, {ca.cert});
  auto clientCtx = context(TlsRole::client, &clientId, {ca.cert});
  PeerPolicy inTd;
  inTd.trustDomain = "td";
  Pair p = connect(*clientCtx, *serverCtx, {.peer = inTd});
  CHECK(p.clientStatus.code() == Code::denied);
  CHECK(p.clientStatus.message() ==
        "certificate verify failed: peer spiffe://other.domain/ns/a/sa/server is not in trust "
        "domain td");

  PeerPolicy exact;
  exact.allowIds = {spiffe("spiffe://other.domain/ns/a/sa/server")};
  Pair ok = connect(*clientCtx, *serverCtx, {.peer = exact});
  CHECK(ok.clientStatus.ok());
  CHECK(ok.client->state() == TlsSession::State::established);
}
