#include <catch2/catch.hpp>

#include "ca/rotation.h"
#include "ca/signer.h"
#include "tests/unit/ca/ca_fixture.h"

using namespace mesh;
using namespace std::chrono_literals;

namespace {
core::CertificateList issue(const ca::RootSource& source, const core::Clock& clock) {
  auto issuer = ca::loadIssuer(source, clock);
  REQUIRE(issuer.ok());
  ca::Signer signer({}, clock);
  auto issued = signer.issue(*issuer, test::newKey().publicKey(), test::spiffe("a", "b"), 0s);
  REQUIRE(issued.ok());
  return issued->chain;
}

core::CertificateList bundle(const ca::RootSource& source, const core::Clock& clock) {
  auto issuer = ca::loadIssuer(source, clock);
  REQUIRE(issuer.ok());
  return issuer->bundle;
}
}  // namespace

TEST_CASE("root rotation overlaps old and new roots so every certificate keeps verifying",
          "[ca][rotation]") {
  core::FakeClock clock;
  test::TempDir tmp;
  ca::RootSource source;
  source.dataDir = tmp.path();
  REQUIRE(ca::initDataDir(source, clock).ok());
  CHECK(*ca::rotationPhase(tmp.path()) == ca::RotationPhase::idle);
  auto oldRoot = ca::loadIssuer(source, clock)->cert;
  auto underOld = issue(source, clock);

  // begin: two roots trusted, the old one still signs.
  REQUIRE(ca::beginRootRotation(source, clock).ok());
  CHECK(*ca::rotationPhase(tmp.path()) == ca::RotationPhase::staged);
  CHECK(bundle(source, clock).size() == 2);
  CHECK(ca::loadIssuer(source, clock)->cert == oldRoot);
  CHECK_FALSE(ca::beginRootRotation(source, clock).ok());  // one rotation at a time

  // activate: the new root signs; certificates of both generations verify with the bundle.
  REQUIRE(ca::activateRootRotation(tmp.path()).ok());
  CHECK(*ca::rotationPhase(tmp.path()) == ca::RotationPhase::active);
  auto issuer = ca::loadIssuer(source, clock);
  REQUIRE(issuer.ok());
  CHECK_FALSE(issuer->cert == oldRoot);
  auto underNew = issue(source, clock);
  auto both = bundle(source, clock);
  CHECK(core::verifyCertificateChain(underOld, both, clock.now()).ok());
  CHECK(core::verifyCertificateChain(underNew, both, clock.now()).ok());

  // finish: the old root is gone; only re-issued certificates verify.
  REQUIRE(ca::finishRootRotation(tmp.path()).ok());
  CHECK(*ca::rotationPhase(tmp.path()) == ca::RotationPhase::idle);
  auto after = bundle(source, clock);
  REQUIRE(after.size() == 1);
  CHECK_FALSE(after.front() == oldRoot);
  CHECK(core::verifyCertificateChain(underNew, after, clock.now()).ok());
  CHECK_FALSE(core::verifyCertificateChain(underOld, after, clock.now()).ok());
  auto status = ca::describeRoots(tmp.path(), clock);
  REQUIRE(status.ok());
  CHECK_THAT(*status, Catch::StartsWith("phase: idle\nsigning  "));
}

TEST_CASE("rotation steps out of order are refused and change nothing", "[ca][rotation]") {
  core::FakeClock clock;
  test::TempDir tmp;
  ca::RootSource source;
  source.dataDir = tmp.path();
  CHECK_FALSE(ca::beginRootRotation(source, clock).ok());  // no CA yet
  REQUIRE(ca::initDataDir(source, clock).ok());
  std::string before = ca::loadIssuer(source, clock)->fingerprint();
  CHECK_FALSE(ca::activateRootRotation(tmp.path()).ok());
  CHECK_FALSE(ca::finishRootRotation(tmp.path()).ok());
  CHECK(ca::loadIssuer(source, clock)->fingerprint() == before);
}
