#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "ca/root_store.h"
#include "tests/unit/ca/ca_fixture.h"

using namespace mesh;
using namespace std::chrono_literals;

namespace {
unsigned modeOf(const std::string& path) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

core::Certificate makeRoot(const core::PrivateKey& key, const core::Clock& clock,
                           std::chrono::seconds ttl = std::chrono::hours(24 * 365)) {
  auto root = ca::createRoot(key, "corp.example", ttl, clock);
  REQUIRE(root.ok());
  return *root;
}

core::Certificate makeIntermediate(const core::PrivateKey& key, const core::Certificate& issuer,
                                   const core::PrivateKey& issuerKey, const core::Clock& clock) {
  core::CertificateTemplate tmpl;
  tmpl.commonName = "mesh intermediate";
  tmpl.notBefore = clock.now();
  tmpl.notAfter = clock.now() + std::chrono::hours(24 * 30);
  tmpl.isCa = true;
  auto cert = core::signCertificate(tmpl, key.publicKey(), issuer, issuerKey);
  REQUIRE(cert.ok());
  return *cert;
}
}  // namespace

TEST_CASE("first start generates a P-256 root with a private key only the owner reads",
          "[ca][root]") {
  core::FakeClock clock;
  test::TempDir tmp;
  ca::RootSource source;
  source.dataDir = tmp.file("ca");
  source.trustDomain = "example.org";
  REQUIRE(ca::initDataDir(source, clock).ok());

  CHECK(modeOf(source.dataDir) == 0700);
  CHECK(modeOf(ca::rootKeyPath(source.dataDir)) == 0600);
  auto material = ca::loadIssuer(source, clock);
  REQUIRE(material.ok());
  CHECK(material->cert.isCa());
  CHECK(material->cert.subject() == "CN=mesh root,O=example.org");
  CHECK(material->cert.notAfter() == clock.now() + ca::kDefaultRootTtl);
  CHECK(material->cert.matches(material->key));
  REQUIRE(material->bundle.size() == 1);
  CHECK(material->bundle.front() == material->cert);

  // A restart keeps the same root instead of minting a new one.
  std::string before = material->fingerprint();
  REQUIRE(ca::initDataDir(source, clock).ok());
  auto again = ca::loadIssuer(source, clock);
  REQUIRE(again.ok());
  CHECK(again->fingerprint() == before);
}

TEST_CASE("the token key is created once, 0600, and reused", "[ca][root]") {
  test::TempDir tmp;
  auto first = ca::loadOrCreateTokenKey(tmp.path());
  REQUIRE(first.ok());
  CHECK(modeOf(ca::tokenKeyPath(tmp.path())) == 0600);
  auto second = ca::loadOrCreateTokenKey(tmp.path());
  REQUIRE(second.ok());
  CHECK(first->publicKey() == second->publicKey());
}

TEST_CASE("a plugged-in root signs with its own key", "[ca][root]") {
  core::FakeClock clock;
  test::TempDir tmp;
  auto key = test::newKey();
  auto root = makeRoot(key, clock);
  REQUIRE(core::writeCertificatesFile(tmp.file("root.pem"), {root}).ok());
  REQUIRE(core::writePrivateKeyFile(tmp.file("root.key"), key).ok());
  ca::RootSource source;
  source.dataDir = tmp.path();
  source.rootCert = tmp.file("root.pem");
  source.rootKey = tmp.file("root.key");
  auto material = ca::loadIssuer(source, clock);
  REQUIRE(material.ok());
  CHECK(material->cert == root);

  SECTION("a key that is not the certificate's is refused") {
    REQUIRE(core::writePrivateKeyFile(tmp.file("root.key"), test::newKey()).ok());
    auto bad = ca::loadIssuer(source, clock);
    REQUIRE_FALSE(bad.ok());
    CHECK_THAT(bad.status().message(), Catch::Contains("does not match"));
  }
  SECTION("an expired root is refused") {
    clock.advance(std::chrono::hours(24 * 366));
    auto bad = ca::loadIssuer(source, clock);
    REQUIRE_FALSE(bad.ok());
    CHECK_THAT(bad.status().message(), Catch::Contains("expired"));
  }
}

TEST_CASE("a plugged-in intermediate signs under the company root", "[ca][root]") {
  core::FakeClock clock;
  test::TempDir tmp;
  auto rootKey = test::newKey();
  auto root = makeRoot(rootKey, clock);
  auto midKey = test::newKey();
  auto mid = makeIntermediate(midKey, root, rootKey, clock);
  REQUIRE(core::writeCertificatesFile(tmp.file("root-cert.pem"), {root}).ok());
  REQUIRE(core::writeCertificatesFile(tmp.file("ca-cert.pem"), {mid}).ok());
  REQUIRE(core::writePrivateKeyFile(tmp.file("ca-key.pem"), midKey).ok());
  // Istio's cert-chain.pem: the intermediate, then the root.
  REQUIRE(core::writeCertificatesFile(tmp.file("cert-chain.pem"), {mid, root}).ok());
  ca::RootSource source;
  source.dataDir = tmp.path();
  source.caCert = tmp.file("ca-cert.pem");
  source.caKey = tmp.file("ca-key.pem");
  source.certChain = tmp.file("cert-chain.pem");
  source.rootCert = tmp.file("root-cert.pem");
  auto material = ca::loadIssuer(source, clock);
  REQUIRE(material.ok());
  CHECK(material->cert == mid);
  REQUIRE(material->chain.size() == 1);  // the root is in the bundle, not the chain
  REQUIRE(material->bundle.size() == 1);
  CHECK(material->bundle.front() == root);

  SECTION("an intermediate from another root is refused") {
    auto otherKey = test::newKey();
    REQUIRE(
        core::writeCertificatesFile(tmp.file("root-cert.pem"), {makeRoot(otherKey, clock)}).ok());
    auto bad = ca::loadIssuer(source, clock);
    REQUIRE_FALSE(bad.ok());
    CHECK_THAT(bad.status().message(), Catch::Contains("does not chain"));
  }
}

TEST_CASE("missing or unreadable CA files are clear errors", "[ca][root]") {
  core::FakeClock clock;
  test::TempDir tmp;
  ca::RootSource source;
  source.dataDir = tmp.path();
  CHECK_FALSE(ca::loadIssuer(source, clock).ok());
  source.rootCert = tmp.file("nope.pem");
  source.rootKey = tmp.file("nope.key");
  auto bad = ca::loadIssuer(source, clock);
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Catch::Contains("--root-cert"));
}
