#include <catch2/catch.hpp>

#include "core/loop/tcp.h"
#include "tests/unit/ca/server_fixture.h"

using namespace mesh;
using namespace std::chrono_literals;
using ca::Refusal;
using test::LoopFixture;

TEST_CASE_METHOD(LoopFixture, "a workload gets a certificate over TLS with a token",
                 "[ca][server]") {
  test::ServingCa ca(loop);
  auto id = test::spiffe("default", "web");
  auto issued = test::exchange(*this, ca.request(id, ca.token(id)));
  REQUIRE(issued.ok());
  CHECK(issued->id == id);
  CHECK(issued->chain.front().matches(issued->key));
  CHECK(core::verifyCertificateChain(issued->chain, issued->trustBundle, ca.clock.now()).ok());
  CHECK(ca.metrics.issuedCount() == 1);
}

TEST_CASE_METHOD(LoopFixture, "renewal presents the current certificate instead of a token",
                 "[ca][server]") {
  test::ServingCa ca(loop);
  auto id = test::spiffe("default", "web");
  auto first = test::exchange(*this, ca.request(id, ca.token(id, 1min)));
  REQUIRE(first.ok());
  ca.clock.advance(2h);  // the token is long expired
  auto renew = ca.request(id, "");
  renew.currentChain = first->chain;
  renew.currentKey = first->key;
  auto second = test::exchange(*this, renew);
  REQUIRE(second.ok());
  CHECK_FALSE(second->chain.front() == first->chain.front());
  CHECK_FALSE(second->key.publicKey() == first->key.publicKey());

  SECTION("a certificate cannot renew into another identity") {
    auto other = ca.request(test::spiffe("default", "db"), "");
    other.currentChain = first->chain;
    other.currentKey = first->key;
    auto refused = test::exchange(*this, other);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().code() == core::Code::denied);
    CHECK(ca.metrics.refusalCount(Refusal::identity_mismatch) == 1);
  }
}

TEST_CASE_METHOD(LoopFixture, "a token is refused for another identity and after it expires",
                 "[ca][server]") {
  test::ServingCa ca(loop);
  auto web = test::spiffe("default", "web");
  auto refused = test::exchange(*this, ca.request(test::spiffe("default", "db"), ca.token(web)));
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.status().message(), Catch::Contains("credential is for"));

  std::string shortToken = ca.token(web, 30s);
  ca.clock.advance(31s);
  auto expired = test::exchange(*this, ca.request(web, shortToken));
  REQUIRE_FALSE(expired.ok());
  CHECK_THAT(expired.status().message(), Catch::Contains("expired"));
  CHECK(ca.metrics.refusalCount(Refusal::token_expired) == 1);
  CHECK(ca.metrics.issuedCount() == 0);
}

TEST_CASE_METHOD(LoopFixture, "a client does not talk to a server that is not the CA",
                 "[ca][server]") {
  test::ServingCa ca(loop);
  test::ServingCa impostor(loop);  // another root: its serving certificate does not verify
  auto id = test::spiffe("default", "web");
  auto request = ca.request(id, ca.token(id));
  request.ca = impostor.address();
  auto result = test::exchange(*this, request);
  REQUIRE_FALSE(result.ok());
  CHECK(impostor.metrics.requestCount() == 0);
}

TEST_CASE_METHOD(LoopFixture, "the CA survives every kind of bad input and keeps serving",
                 "[ca][server]") {
  test::ServingCa ca(loop);
  auto id = test::spiffe("default", "web");

  {  // Garbage instead of a TLS handshake.
    core::TcpStream tcp(loop);
    bool connected = false;
    REQUIRE(tcp.connect(ca.address(), [&](core::Status s) { connected = s.ok(); }).ok());
    runUntil([&] { return connected; });
    REQUIRE(tcp.write(std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n\x16\x03\x01garbage"), nullptr)
                .ok());
    runUntil([&] { return ca.metrics.refusalCount(Refusal::tls_handshake) == 1; });
  }
  {  // A silent client is dropped at the handshake deadline.
    core::TcpStream tcp(loop);
    REQUIRE(tcp.connect(ca.address(), nullptr).ok());
    runUntil([&] { return ca.metrics.refusalCount(Refusal::tls_handshake) == 2; });
  }
  {  // Garbage bytes inside TLS: an error frame, then the close.
    test::RawClient client(*this, ca);
    client.send(std::string("\x00\x00\x00\x05hello", 9));
    auto error = client.next();
    REQUIRE(error);
    CHECK((*error)["type"] == "error");
    CHECK((*error)["code"] == "invalid");
    CHECK(client.waitClosed());
  }
  {  // An oversized frame is refused from its header alone.
    test::RawClient client(*this, ca);
    client.send(std::string("\x7f\xff\xff\xff", 4));
    auto error = client.next();
    REQUIRE(error);
    CHECK((*error)["code"] == "too_large");
    CHECK(client.waitClosed());
  }
  {  // Malformed JSON.
    test::RawClient client(*this, ca);
    client.send(core::encodeFrameBytes("{\"type\": \"csr\", "));
    auto error = client.next();
    REQUIRE(error);
    CHECK((*error)["code"] == "invalid");
    CHECK(client.waitClosed());
  }
  {  // Refusals that keep the connection: unknown type, bad CSR, forged token.
    test::RawClient client(*this, ca);
    client.send(core::encodeFrame({{"type", "hello"}}));
    CHECK((*client.next())["code"] == "invalid");
    client.send(
        core::encodeFrame({{"type", "csr"}, {"csr", "not a csr"}, {"token", ca.token(id)}}));
    CHECK((*client.next())["code"] == "invalid");
    ca::TokenSigner forger(test::newKey());
    auto forged = forger.create(id, 1h, ca.clock);
    client.send(core::encodeFrame(
        {{"type", "csr"}, {"csr", test::csrFor(test::newKey(), id)}, {"token", *forged}}));
    auto answer = client.next();
    REQUIRE(answer);
    CHECK((*answer)["code"] == "denied");
    // Still open: a good request on the same connection works.
    client.send(core::encodeFrame(
        {{"type", "csr"}, {"csr", test::csrFor(test::newKey(), id)}, {"token", ca.token(id)}}));
    auto good = client.next();
    REQUIRE(good);
    CHECK((*good)["type"] == "certificate");
  }
  {  // A client certificate from another trust domain.
    test::CaUnderTest foreignCa("other.mesh");
    auto foreignId = test::spiffe("default", "web", "other.mesh");
    auto key = test::newKey();
    auto chain = foreignCa.authority->handleCsr({{"type", "csr"},
                                                 {"csr", test::csrFor(key, foreignId)},
                                                 {"token", foreignCa.token(foreignId)}},
                                                {}, "t");
    auto request = ca.request(id, "");
    request.currentChain = *core::parseCertificatesPem(chain["chain"].get<std::string>());
    request.currentKey = key;
    auto refused = test::exchange(*this, request);
    REQUIRE_FALSE(refused.ok());
    CHECK(ca.metrics.refusalCount(Refusal::foreign_trust_domain) == 1);
  }

  // After all of that, the CA still serves a well-behaved workload.
  auto issued = test::exchange(*this, ca.request(id, ca.token(id)));
  REQUIRE(issued.ok());
  CHECK(ca.metrics.refusalCount(Refusal::malformed_frame) == 2);
  CHECK(ca.metrics.refusalCount(Refusal::frame_too_large) == 1);
  CHECK(ca.metrics.refusalCount(Refusal::unknown_message) == 1);
  CHECK(ca.metrics.refusalCount(Refusal::bad_csr) == 1);
  CHECK(ca.metrics.refusalCount(Refusal::token_forged) == 1);
  ca.server.stop();
}
