// TLS handshakes between real sockets on 127.0.0.1: TlsStream over core/loop's TcpStream.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/loop/tcp.h"
#include "core/tls/context.h"
#include "core/tls/tls_stream.h"
#include "tests/unit/loop/loop_fixture.h"
#include "tests/unit/tls/pki.h"

using namespace mesh::core;
using namespace mesh::test;

namespace {

std::shared_ptr<TlsContext> makeContext(TlsRole role, const Identity* id, CertificateList bundle,
                                        std::vector<std::string> alpn = {},
                                        bool verifyPeer = true) {
  TlsOptions o;
  o.role = role;
  if (id) {
    o.chain = id->chain;
    o.key = id->key;
  }
  o.trustBundle = std::move(bundle);
  o.alpn = std::move(alpn);
  o.verifyPeer = verifyPeer;
  auto ctx = TlsContext::create(std::move(o));
  INFO(ctx.status().toString());
  REQUIRE(ctx.ok());
  return *ctx;
}

// One end of a connection: its handshake result and what it read.
struct End : StreamSink {
  std::unique_ptr<TlsStream> stream;
  bool handshakeDone = false;
  Status handshake;
  std::string got;
  bool eof = false;
  bool failed = false;
  Status readError;
  bool echo = false;

  void onData(ByteView data) override {
    got.append(data.data(), data.size());
    if (echo) REQUIRE(stream->write(std::string(data.data(), data.size()), nullptr).ok());
  }
  void onEof() override {
    eof = true;
    if (echo) (void)stream->shutdown(nullptr);
  }
  void onError(const Status& status) override {
    failed = true;
    readError = status;
  }
  void onHandshake(Status s) {
    handshakeDone = true;
    handshake = s;
    if (s.ok()) REQUIRE(stream->startReading(*this).ok());
  }
  bool finished() const { return eof || failed; }
};

// Accepts TLS connections; each one echoes what it reads unless told otherwise.
class Server {
 public:
  Server(Loop& loop, std::shared_ptr<TlsContext> ctx, bool echo = true)
      : listener_(loop), ctx_(std::move(ctx)) {
    Status st = listener_.listen(
        SocketAddress::loopbackV4(0), [this, echo](std::unique_ptr<TcpStream> tcp) {
          auto end = std::make_unique<End>();
          auto tls = TlsStream::server(std::move(tcp), *ctx_);
          REQUIRE(tls.ok());
          end->stream = std::move(*tls);
          end->echo = echo;
          End* raw = end.get();
          REQUIRE(end->stream->handshake([raw](Status s) { raw->onHandshake(s); }).ok());
          ends.push_back(std::move(end));
        });
    REQUIRE(st.ok());
  }
  SocketAddress address() const { return SocketAddress::loopbackV4(listener_.port()); }
  std::vector<std::unique_ptr<End>> ends;

 private:
  TcpListener listener_;
  std::shared_ptr<TlsContext> ctx_;
};

std::unique_ptr<End> dial(Loop& loop, const Server& server, TlsContext& ctx,
                          const TlsSessionOptions& options = {}) {
  auto end = std::make_unique<End>();
  End* raw = end.get();
  auto tls = TlsStream::connect(loop, server.address(), ctx, options,
                                [raw](Status s) { raw->onHandshake(s); });
  INFO(tls.status().toString());
  REQUIRE(tls.ok());
  end->stream = std::move(*tls);
  return end;
}

struct Mesh {
  Ca ca = makeCa("Mesh Root");
  Identity server = issue(ca, "spiffe://cluster.local/ns/default/sa/server");
  Identity client = issue(ca, "spiffe://cluster.local/ns/default/sa/client");
};

}  // namespace

TEST_CASE_METHOD(LoopFixture, "mutual TLS over TCP: both sides read the other's SPIFFE id",
                 "[tls][stream]") {
  Mesh m;
  auto serverCtx = makeContext(TlsRole::server, &m.server, {m.ca.cert}, {"h2", "http/1.1"});
  auto clientCtx = makeContext(TlsRole::client, &m.client, {m.ca.cert}, {"h2"});
  Server server(loop, serverCtx);
  auto client = dial(loop, server, *clientCtx, {.serverName = "server.default.svc.cluster.local"});

  // Writes before the handshake completes are queued.
  REQUIRE(client->stream->write(std::string("ping"), nullptr).ok());
  runUntil([&] {
    return client->handshakeDone && !server.ends.empty() && server.ends[0]->handshakeDone;
  });
  End& accepted = *server.ends[0];
  INFO(client->handshake.toString() << " / " << accepted.handshake.toString());
  REQUIRE(client->handshake.ok());
  REQUIRE(accepted.handshake.ok());

  CHECK(client->stream->peerId()->toString() == "spiffe://cluster.local/ns/default/sa/server");
  CHECK(accepted.stream->peerId()->toString() == "spiffe://cluster.local/ns/default/sa/client");
  CHECK(client->stream->alpn() == "h2");
  CHECK(accepted.stream->alpn() == "h2");
  CHECK(accepted.stream->serverName() == "server.default.svc.cluster.local");
  CHECK(client->stream->session().version() == "TLSv1.3");
  CHECK(client->stream->session().group() == "X25519");

  // Data both ways, including a large gathered write that spans many records.
  std::string big(1 << 20, 'z');
  for (size_t i = 0; i < big.size(); i += 997) big[i] = static_cast<char>('a' + i % 26);
  std::string head = "hello ";
  ByteView chunks[] = {ByteView(head.data(), head.size()), ByteView(big.data(), big.size())};
  bool written = false;
  REQUIRE(client->stream
              ->write(chunks,
                      [&](Status s) {
                        REQUIRE(s.ok());
                        written = true;
                      })
              .ok());
  std::string expected = "ping" + head + big;
  runUntil([&] { return written && client->got.size() >= expected.size(); });
  CHECK(accepted.got == expected);
  CHECK(client->got == expected);

  // Clean close: close_notify and half-close, echoed back.
  REQUIRE(client->stream->shutdown(nullptr).ok());
  runUntil([&] { return accepted.eof && client->eof; });
  CHECK(accepted.stream->session().peerClosedCleanly());
  CHECK(client->stream->session().peerClosedCleanly());
}

TEST_CASE_METHOD(LoopFixture, "a server certificate from an untrusted root is refused",
                 "[tls][stream]") {
  Mesh m;
  Ca rogue = makeCa("Rogue Root");
  Identity impostor = issue(rogue, "spiffe://cluster.local/ns/default/sa/server");
  auto serverCtx = makeContext(TlsRole::server, &impostor, {m.ca.cert});
  auto clientCtx = makeContext(TlsRole::client, &m.client, {m.ca.cert});
  Server server(loop, serverCtx);
  auto client = dial(loop, server, *clientCtx);
  runUntil([&] {
    return client->handshakeDone && !server.ends.empty() && server.ends[0]->handshakeDone;
  });
  CHECK(client->handshake.code() == Code::denied);
  CHECK(client->handshake.message() ==
        "certificate verify failed: unable to get local issuer certificate");
  // The server learns why from the client's alert.
  CHECK(server.ends[0]->handshake.code() == Code::denied);
  CHECK(server.ends[0]->handshake.message() == "peer sent alert: unknown ca");
}

TEST_CASE_METHOD(LoopFixture, "a client certificate from an untrusted root is refused",
                 "[tls][stream]") {
  Mesh m;
  Ca rogue = makeCa("Rogue Root");
  Identity impostor = issue(rogue, "spiffe://cluster.local/ns/default/sa/client");
  auto serverCtx = makeContext(TlsRole::server, &m.server, {m.ca.cert});
  auto clientCtx = makeContext(TlsRole::client, &impostor, {m.ca.cert});
  Server server(loop, serverCtx);
  auto client = dial(loop, server, *clientCtx);
  runUntil([&] { return !server.ends.empty() && server.ends[0]->handshakeDone; });
  CHECK(server.ends[0]->handshake.code() == Code::denied);
  CHECK(server.ends[0]->handshake.message() ==
        "certificate verify failed: unable to get local issuer certificate");
  // TLS 1.3: the client finished first; the refusal arrives as a read error.
  runUntil(
      [&] { return client->handshakeDone && (client->finished() || !client->handshake.ok()); });
  Status seen = client->handshake.ok() ? client->readError : client->handshake;
  CHECK(seen.code() == Code::denied);
  CHECK(seen.message() == "peer sent alert: unknown ca");
}

TEST_CASE_METHOD(LoopFixture, "a client without a certificate is refused when one is required",
                 "[tls][stream]") {
  Mesh m;
  auto serverCtx = makeContext(TlsRole::server, &m.server, {m.ca.cert});
  auto clientCtx = makeContext(TlsRole::client, nullptr, {m.ca.cert});
  Server server(loop, serverCtx);
  auto client = dial(loop, server, *clientCtx);
  runUntil([&] { return !server.ends.empty() && server.ends[0]->handshakeDone; });
  CHECK(server.ends[0]->handshake.code() == Code::denied);
  CHECK(server.ends[0]->handshake.message() == "peer did not return a certificate");
  runUntil(
      [&] { return client->handshakeDone && (client->finished() || !client->handshake.ok()); });
  Status seen = client->handshake.ok() ? client->readError : client->handshake;
  CHECK(seen.code() == Code::denied);
  CHECK(seen.message() == "peer sent alert: certificate required");
}

TEST_CASE_METHOD(LoopFixture, "expired certificates are refused", "[tls][stream]") {
  Mesh m;
  Identity expired =
      issue(m.ca, "spiffe://cluster.local/ns/default/sa/old", now() - 48h, now() - 24h);

  SECTION("expired server certificate") {
    auto serverCtx = makeContext(TlsRole::server, &expired, {m.ca.cert});
    auto clientCtx = makeContext(TlsRole::client, &m.client, {m.ca.cert});
    Server server(loop, serverCtx);
    auto client = dial(loop, server, *clientCtx);
    runUntil([&] {
      return client->handshakeDone && !server.ends.empty() && server.ends[0]->handshakeDone;
    });
    CHECK(client->handshake.code() == Code::denied);
    CHECK(client->handshake.message() == "certificate verify failed: certificate has expired");
    CHECK(server.ends[0]->handshake.message() == "peer sent alert: certificate expired");
  }
  SECTION("expired client certificate") {
    auto serverCtx = makeContext(TlsRole::server, &m.server, {m.ca.cert});
    auto clientCtx = makeContext(TlsRole::client, &expired, {m.ca.cert});
    Server server(loop, serverCtx);
    auto client = dial(loop, server, *clientCtx);
    runUntil([&] { return !server.ends.empty() && server.ends[0]->handshakeDone; });
    CHECK(server.ends[0]->handshake.message() ==
          "certificate verify failed: certificate has expired");
    runUntil(
        [&] { return client->handshakeDone && (client->finished() || !client->handshake.ok()); });
  }
  SECTION("a certificate not yet valid") {
    Identity future =
        issue(m.ca, "spiffe://cluster.local/ns/default/sa/new", now() + 1h, now() + 2h);
    auto serverCtx = makeContext(TlsRole::server, &future, {m.ca.cert});
    auto clientCtx = makeContext(TlsRole::client, &m.client, {m.ca.cert});
    Server server(loop, serverCtx);
    auto client = dial(loop, server, *clientCtx);
    runUntil([&] { return client->handshakeDone; });
    CHECK(client->handshake.message() == "certificate verify failed: certificate is not yet valid");
    runUntil([&] { return !server.ends.empty() && server.ends[0]->handshakeDone; });
  }
}

TEST_CASE_METHOD(LoopFixture, "ALPN: the server's first choice the client offers, or none",
                 "[tls][stream]") {
  Mesh m;
  auto serverCtx =
      makeContext(TlsRole::server, &m.server, {m.ca.cert}, {"mesh/1", "h2", "http/1.1"});
  auto clientCtx = makeContext(TlsRole::client, &m.client, {m.ca.cert}, {"http/1.1", "h2"});
  Server server(loop, serverCtx);

  auto both = dial(loop, server, *clientCtx);
  runUntil([&] { return both->handshakeDone; });
  REQUIRE(both->handshake.ok());
  CHECK(both->stream->alpn() == "h2");

  auto other = dial(loop, server, *clientCtx, {.alpn = std::vector<std::string>{"spdy/3"}});
  runUntil([&] { return other->handshakeDone; });
  REQUIRE(other->handshake.ok());
  CHECK(other->stream->alpn().empty());

  auto none = dial(loop, server, *clientCtx, {.alpn = std::vector<std::string>{}});
  runUntil([&] {
    return none->handshakeDone && server.ends.size() == 3 && server.ends[2]->handshakeDone;
  });
  REQUIRE(none->handshake.ok());
  CHECK(none->stream->alpn().empty());
}

TEST_CASE_METHOD(LoopFixture, "SNI is seen by the server, which can choose or refuse by it",
                 "[tls][stream]") {
  Mesh m;
  Identity gateway = issue(m.ca, "spiffe://cluster.local/ns/ingress/sa/gateway");
  auto gatewayCtx = makeContext(TlsRole::server, &gateway, {m.ca.cert});
  std::vector<std::string> seen;
  TlsOptions o;
  o.role = TlsRole::server;
  o.chain = m.server.chain;
  o.key = m.server.key;
  o.trustBundle = {m.ca.cert};
  o.selectByServerName = [&](const std::string& name) -> Result<std::shared_ptr<TlsContext>> {
    seen.push_back(name);
    if (name == "gateway.example") return gatewayCtx;
    if (name == "unknown.example") return error(Code::not_found, "no such host");
    return std::shared_ptr<TlsContext>();
  };
  auto serverCtx = TlsContext::create(std::move(o));
  REQUIRE(serverCtx.ok());
  auto clientCtx = makeContext(TlsRole::client, &m.client, {m.ca.cert});
  Server server(loop, *serverCtx);

  auto plain = dial(loop, server, *clientCtx, {.serverName = "server.default.svc"});
  runUntil([&] {
    return plain->handshakeDone && server.ends.size() == 1 && server.ends[0]->handshakeDone;
  });
  REQUIRE(plain->handshake.ok());
  CHECK(server.ends[0]->stream->serverName() == "server.default.svc");
  CHECK(plain->stream->serverName() == "server.default.svc");
  CHECK(plain->stream->peerId()->toString() == "spiffe://cluster.local/ns/default/sa/server");

  auto gw = dial(loop, server, *clientCtx, {.serverName = "gateway.example"});
  runUntil([&] {
    return gw->handshakeDone && server.ends.size() == 2 && server.ends[1]->handshakeDone;
  });
  REQUIRE(gw->handshake.ok());
  CHECK(gw->stream->peerId()->toString() == "spiffe://cluster.local/ns/ingress/sa/gateway");
  // The choosing context's verification still applies: the client was checked.
  CHECK(server.ends[1]->stream->peerId()->toString() ==
        "spiffe://cluster.local/ns/default/sa/client");

  auto bad = dial(loop, server, *clientCtx, {.serverName = "unknown.example"});
  runUntil([&] {
    return bad->handshakeDone && server.ends.size() == 3 && server.ends[2]->handshakeDone;
  });
  CHECK(bad->handshake.message() == "peer sent alert: unrecognized name");
  CHECK(server.ends[2]->handshake.message() == "server name refused: no such host");

  auto noSni = dial(loop, server, *clientCtx);
  runUntil([&] { return noSni->handshakeDone; });
  REQUIRE(noSni->handshake.ok());
  CHECK(seen ==
        std::vector<std::string>{"server.default.svc", "gateway.example", "unknown.example", ""});
}

TEST_CASE_METHOD(LoopFixture,
                 "hot swap: open connections keep working, new ones see the new certificate",
                 "[tls][stream]") {
  Mesh m;
  auto serverCtx = makeContext(TlsRole::server, &m.server, {m.ca.cert});
  auto clientCtx = makeContext(TlsRole::client, &m.client, {m.ca.cert});
  Server server(loop, serverCtx);

  auto before = dial(loop, server, *clientCtx);
  runUntil([&] { return before->handshakeDone; });
  REQUIRE(before->handshake.ok());
  CHECK(*before->stream->peerCertificate() == m.server.chain[0]);

  // Rotate the server's certificate (same identity, new key) under a new root, and trust
  // both roots during the rotation.
  Ca next = makeCa("Mesh Root 2");
  Identity rotated = issue(next, "spiffe://cluster.local/ns/default/sa/server");
  REQUIRE(serverCtx->update(rotated.chain, rotated.key, {m.ca.cert, next.cert}).ok());
  CHECK(serverCtx->generation() == 1);
  CHECK(*serverCtx->certificate() == rotated.chain[0]);

  // The open connection is untouched.
  REQUIRE(before->stream->write(std::string("still here"), nullptr).ok());
  runUntil([&] { return before->got == "still here"; });

  // A new connection gets the new certificate; the client must trust the new root first.
  auto refused = dial(loop, server, *clientCtx);
  runUntil([&] { return refused->handshakeDone; });
  CHECK(refused->handshake.message() ==
        "certificate verify failed: unable to get local issuer certificate");
  REQUIRE(clientCtx->updateTrustBundle({m.ca.cert, next.cert}).ok());
  auto after = dial(loop, server, *clientCtx);
  runUntil([&] { return after->handshakeDone; });
  REQUIRE(after->handshake.ok());
  CHECK(*after->stream->peerCertificate() == rotated.chain[0]);
  CHECK(after->stream->peerId()->toString() == "spiffe://cluster.local/ns/default/sa/server");
  REQUIRE(after->stream->write(std::string("new"), nullptr).ok());
  runUntil([&] { return after->got == "new"; });

  // And the first connection still works after all of that.
  REQUIRE(before->stream->write(std::string("!"), nullptr).ok());
  runUntil([&] { return before->got == "still here!"; });

  // A failed update changes nothing.
  CHECK_FALSE(serverCtx->updateCredentials(m.client.chain, rotated.key).ok());  // key mismatch
  CHECK(serverCtx->generation() == 1);
  runUntil([&] { return server.ends.size() == 3; });
}

TEST_CASE_METHOD(LoopFixture, "two roots in the trust bundle are both accepted", "[tls][stream]") {
  Ca a = makeCa("Root A");
  Ca b = makeCa("Root B");
  Identity serverId = issue(a, "spiffe://cluster.local/ns/default/sa/server");
  Identity fromA = issue(a, "spiffe://cluster.local/ns/default/sa/a");
  Identity fromB = issue(b, "spiffe://cluster.local/ns/default/sa/b");
  auto serverCtx = makeContext(TlsRole::server, &serverId, {a.cert, b.cert});
  auto clientA = makeContext(TlsRole::client, &fromA, {a.cert});
  auto clientB = makeContext(TlsRole::client, &fromB, {a.cert, b.cert});
  Server server(loop, serverCtx);
  auto ca = dial(loop, server, *clientA);
  auto cb = dial(loop, server, *clientB);
  runUntil([&] {
    return server.ends.size() == 2 && server.ends[0]->handshakeDone &&
           server.ends[1]->handshakeDone;
  });
  std::vector<std::string> ids;
  for (auto& end : server.ends) {
    INFO(end->handshake.toString());
    REQUIRE(end->handshake.ok());
    ids.push_back(end->stream->peerId()->toString());
  }
  std::sort(ids.begin(), ids.end());
  CHECK(ids == std::vector<std::string>{"spiffe://cluster.local/ns/default/sa/a",
                                        "spiffe://cluster.local/ns/default/sa/b"});
  runUntil([&] { return ca->handshakeDone && cb->handshakeDone; });
}

TEST_CASE_METHOD(LoopFixture, "an unexpected peer identity is refused", "[tls][stream]") {
  Mesh m;
  auto serverCtx = makeContext(TlsRole::server, &m.server, {m.ca.cert});
  auto clientCtx = makeContext(TlsRole::client, &m.client, {m.ca.cert});
  Server server(loop, serverCtx);
  PeerPolicy expect;
  expect.allowIds = {spiffe("spiffe://cluster.local/ns/default/sa/database")};
  auto client = dial(loop, server, *clientCtx, {.peer = expect});
  runUntil([&] {
    return client->handshakeDone && !server.ends.empty() && server.ends[0]->handshakeDone;
  });
  CHECK(client->handshake.code() == Code::denied);
  CHECK(client->handshake.message() ==
        "certificate verify failed: peer spiffe://cluster.local/ns/default/sa/server is not an "
        "allowed identity");
  CHECK_FALSE(server.ends[0]->handshake.ok());

  PeerPolicy domain;
  domain.trustDomain = "cluster.local";
  auto ok = dial(loop, server, *clientCtx, {.peer = domain});
  runUntil([&] { return ok->handshakeDone; });
  CHECK(ok->handshake.ok());
  runUntil([&] { return server.ends.size() == 2 && server.ends[1]->handshakeDone; });
}

TEST_CASE_METHOD(LoopFixture, "the peer hanging up mid-handshake fails it; resumption over TCP",
                 "[tls][stream]") {
  Mesh m;
  auto serverCtx = makeContext(TlsRole::server, &m.server, {m.ca.cert});
  auto clientCtx = makeContext(TlsRole::client, &m.client, {m.ca.cert});

  SECTION("plain TCP client that connects and closes") {
    Server server(loop, serverCtx);
    TcpStream tcp(loop);
    bool connected = false;
    REQUIRE(tcp.connect(server.address(), [&](Status s) { connected = s.ok(); }).ok());
    runUntil([&] { return connected && !server.ends.empty(); });
    tcp.close();
    runUntil([&] { return server.ends[0]->handshakeDone; });
    CHECK(server.ends[0]->handshake.code() == Code::unavailable);
    CHECK(server.ends[0]->handshake.message() == "connection closed during the TLS handshake");
  }
  SECTION("connection refused") {
    TcpListener probe(loop);
    REQUIRE(probe.listen(SocketAddress::loopbackV4(0), [](std::unique_ptr<TcpStream>) {}).ok());
    auto port = probe.port();
    probe.close();
    Status result;
    bool done = false;
    auto tls =
        TlsStream::connect(loop, SocketAddress::loopbackV4(port), *clientCtx, {}, [&](Status s) {
          result = s;
          done = true;
        });
    REQUIRE(tls.ok());
    runUntil([&] { return done; });
    CHECK(result.code() == Code::unavailable);
  }
  SECTION("a second connection resumes the first one's session") {
    Server server(loop, serverCtx);
    auto first = dial(loop, server, *clientCtx, {.serverName = "server"});
    REQUIRE(first->stream->write(std::string("x"), nullptr).ok());
    runUntil([&] { return first->got == "x"; });  // the tickets came with the echo
    CHECK_FALSE(first->stream->session().resumed());
    auto second = dial(loop, server, *clientCtx, {.serverName = "server"});
    runUntil([&] { return second->handshakeDone; });
    REQUIRE(second->handshake.ok());
    CHECK(second->stream->session().resumed());
    CHECK(second->stream->peerId()->toString() == "spiffe://cluster.local/ns/default/sa/server");
    runUntil([&] { return server.ends.size() == 2 && server.ends[1]->handshakeDone; });
    CHECK(server.ends[1]->stream->peerId()->toString() ==
          "spiffe://cluster.local/ns/default/sa/client");
  }
}

// The openssl CLI as an independent TLS peer: it runs in a child process (from a thread, so
// this thread keeps running the loop) and does mutual TLS with our server.
TEST_CASE_METHOD(LoopFixture, "openssl s_client completes mutual TLS 1.2 and 1.3 with our server",
                 "[tls][stream][openssl]") {
  REQUIRE(haveOpenssl());
  Mesh m;
  TempDir dir;
  REQUIRE(writeCertificatesFile(dir.file("root.pem"), {m.ca.cert}).ok());
  REQUIRE(writeCertificatesFile(dir.file("client.pem"), m.client.chain).ok());
  REQUIRE(writePrivateKeyFile(dir.file("client.key"), m.client.key).ok());
  auto serverCtx = makeContext(TlsRole::server, &m.server, {m.ca.cert}, {"h2"});
  Server server(loop, serverCtx);

  auto version = GENERATE(std::string("tls1_2"), std::string("tls1_3"));
  INFO(version);
  std::atomic<bool> finished{false};
  CommandResult result;
  std::string command = "echo hello | openssl s_client -brief -" + version + " -connect " +
                        server.address().toString() + " -servername server.mesh -alpn h2" +
                        " -CAfile " + dir.file("root.pem") + " -cert " + dir.file("client.pem") +
                        " -key " + dir.file("client.key") + " -verify_return_error";
  std::thread child([&] {
    result = run(command);
    finished = true;
  });
  bool ok = mesh::core::runUntil(
      loop, [&] { return finished.load(); }, std::chrono::seconds(20));
  child.join();
  REQUIRE(ok);
  INFO(result.output);
  CHECK(result.exitCode == 0);
  CHECK(result.output.find(version == "tls1_2" ? "Protocol version: TLSv1.2"
                                               : "Protocol version: TLSv1.3") != std::string::npos);
  CHECK(result.output.find("Verification: OK") != std::string::npos);
  if (version == "tls1_2")
    CHECK(result.output.find("Ciphersuite: ECDHE-ECDSA-AES") != std::string::npos);
  CHECK(result.output.find("GCM") != std::string::npos);

  runUntil([&] { return !server.ends.empty() && server.ends[0]->handshakeDone; });
  End& end = *server.ends[0];
  REQUIRE(end.handshake.ok());
  CHECK(end.stream->peerId()->toString() == "spiffe://cluster.local/ns/default/sa/client");
  CHECK(end.stream->serverName() == "server.mesh");
  CHECK(end.stream->alpn() == "h2");
  CHECK(end.stream->session().version() == (version == "tls1_2" ? "TLSv1.2" : "TLSv1.3"));
  CHECK(end.stream->session().group() == "X25519");
  runUntil([&] { return end.got == "hello\n" || end.finished(); });
  CHECK(end.got == "hello\n");
}
