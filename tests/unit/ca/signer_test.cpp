#include <catch2/catch.hpp>

#include <openssl/x509v3.h>

#include "ca/signer.h"
#include "tests/unit/ca/ca_fixture.h"

using namespace mesh;
using namespace std::chrono_literals;

namespace {
struct SignerSetup {
  core::FakeClock clock;
  test::TempDir dir;
  ca::RootSource source;
  std::optional<ca::IssuerMaterial> issuer;
  SignerSetup() {
    source.dataDir = dir.path();
    REQUIRE(ca::initDataDir(source, clock).ok());
    auto m = ca::loadIssuer(source, clock);
    REQUIRE(m.ok());
    issuer.emplace(std::move(*m));
  }
};
}  // namespace

TEST_CASE("a workload certificate carries only its SPIFFE id and mTLS usages", "[ca][signer]") {
  SignerSetup s;
  ca::Signer signer({}, s.clock);
  auto key = test::newKey();
  auto id = test::spiffe("shop", "cart");
  auto issued = signer.issue(*s.issuer, key.publicKey(), id, 0s);
  REQUIRE(issued.ok());
  REQUIRE(issued->chain.size() == 1);
  const core::Certificate& leaf = issued->chain.front();
  CHECK(leaf.uriSans() == std::vector<std::string>{"spiffe://cluster.local/ns/shop/sa/cart"});
  CHECK(leaf.dnsSans().empty());
  CHECK_FALSE(leaf.isCa());
  CHECK(leaf.matches(key));
  CHECK(X509_get_key_usage(leaf.get()) == (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
  CHECK(X509_get_extended_key_usage(leaf.get()) == (XKU_SSL_SERVER | XKU_SSL_CLIENT));
  // Dated back for peers whose clocks run a little behind; the TTL counts from now.
  CHECK(leaf.notBefore() == s.clock.now() - 5min);
  CHECK(leaf.notAfter() == s.clock.now() + ca::kDefaultCertTtl);
  CHECK(issued->notAfter == leaf.notAfter());
  CHECK(core::verifyCertificateChain(issued->chain, issued->bundle, s.clock.now()).ok());
}

TEST_CASE("the requested ttl is honoured up to --max-ttl", "[ca][signer]") {
  SignerSetup s;
  ca::SignerOptions options;
  options.maxTtl = 48h;
  ca::Signer signer(options, s.clock);
  auto key = test::newKey();
  auto id = test::spiffe("default", "web");
  auto shortLived = signer.issue(*s.issuer, key.publicKey(), id, 10s);
  REQUIRE(shortLived.ok());
  CHECK(shortLived->notAfter == s.clock.now() + 10s);
  auto capped = signer.issue(*s.issuer, key.publicKey(), id, 24h * 30);
  REQUIRE(capped.ok());
  CHECK(capped->notAfter == s.clock.now() + 48h);
  CHECK_FALSE(signer.issue(*s.issuer, key.publicKey(), id, -1s).ok());
}

TEST_CASE("no certificate outlives its issuer", "[ca][signer]") {
  SignerSetup s;
  ca::Signer signer({}, s.clock);
  s.clock.advance(ca::kDefaultRootTtl - 1h);
  auto issued = signer.issue(*s.issuer, test::newKey().publicKey(), test::spiffe("a", "b"), 0s);
  REQUIRE(issued.ok());
  CHECK(issued->notAfter == s.issuer->cert.notAfter());
}

TEST_CASE("a fresh certificate verifies for a peer whose clock is a little behind",
          "[ca][signer]") {
  SignerSetup s;
  ca::Signer signer({}, s.clock);
  auto issued = signer.issue(*s.issuer, test::newKey().publicKey(), test::spiffe("a", "b"), 4s);
  REQUIRE(issued.ok());
  // A verifier reading the coarse clock a moment before the second the CA read, or another
  // machine a minute behind: both accept the certificate, root included.
  CHECK(core::verifyCertificateChain(issued->chain, issued->bundle, s.clock.now() - 1s).ok());
  CHECK(core::verifyCertificateChain(issued->chain, issued->bundle, s.clock.now() - 1min).ok());
  CHECK_FALSE(
      core::verifyCertificateChain(issued->chain, issued->bundle, s.clock.now() - 6min).ok());
  CHECK(issued->notAfter == s.clock.now() + 4s);
}
