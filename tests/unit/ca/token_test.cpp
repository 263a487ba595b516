#include <catch2/catch.hpp>

#include "ca/token.h"
#include "tests/unit/ca/ca_fixture.h"

using namespace mesh;
using namespace std::chrono_literals;
using ca::TokenError;
using ca::TokenSigner;

namespace {
std::string audience() { return ca::tokenAudience("cluster.local"); }

// Replaces the middle (payload) part of a token.
std::string withPayload(const std::string& token, const std::string& payloadB64) {
  size_t a = token.find('.'), b = token.rfind('.');
  return token.substr(0, a + 1) + payloadB64 + token.substr(b);
}
}  // namespace

TEST_CASE("a token names one identity and verifies until it expires", "[ca][token]") {
  core::FakeClock clock;
  TokenSigner signer(test::newKey());
  auto id = test::spiffe("default", "web");
  auto token = signer.create(id, 1h, clock);
  REQUIRE(token.ok());

  auto verdict = signer.verify(*token, audience(), clock);
  REQUIRE(verdict.ok());
  CHECK(verdict.claims->identity == id);
  CHECK(verdict.claims->expiresAt == clock.now() + 1h);
  CHECK(verdict.claims->id.size() == 32);

  clock.advance(59min);
  CHECK(signer.verify(*token, audience(), clock).ok());
  clock.advance(1min);
  auto late = signer.verify(*token, audience(), clock);
  CHECK_FALSE(late.ok());
  CHECK(late.error == TokenError::expired);
}

TEST_CASE("a token signed by another key is refused as forged", "[ca][token]") {
  core::FakeClock clock;
  TokenSigner ours(test::newKey());
  TokenSigner theirs(test::newKey());
  auto token = theirs.create(test::spiffe("default", "web"), 1h, clock);
  REQUIRE(token.ok());
  auto verdict = ours.verify(*token, audience(), clock);
  CHECK(verdict.error == TokenError::bad_signature);
}

TEST_CASE("a token whose payload was changed does not verify", "[ca][token]") {
  core::FakeClock clock;
  TokenSigner signer(test::newKey());
  auto web = signer.create(test::spiffe("default", "web"), 1h, clock);
  auto db = signer.create(test::spiffe("default", "db"), 1h, clock);
  REQUIRE((web.ok() && db.ok()));
  // Graft db's (validly signed) payload onto web's signature: the identity cannot be swapped.
  size_t a = db->find('.'), b = db->rfind('.');
  std::string grafted = withPayload(*web, db->substr(a + 1, b - a - 1));
  auto verdict = signer.verify(grafted, audience(), clock);
  CHECK_FALSE(verdict.ok());
  CHECK(verdict.error == TokenError::bad_signature);
}

TEST_CASE("a token for another trust domain's CA is refused", "[ca][token]") {
  core::FakeClock clock;
  TokenSigner signer(test::newKey());
  auto token = signer.create(test::spiffe("default", "web", "other.mesh"), 1h, clock);
  REQUIRE(token.ok());
  auto verdict = signer.verify(*token, audience(), clock);
  CHECK(verdict.error == TokenError::wrong_audience);
}

TEST_CASE("a token issued in the future is refused", "[ca][token]") {
  core::FakeClock issuerClock;
  TokenSigner signer(test::newKey());
  issuerClock.advance(1h);
  auto token = signer.create(test::spiffe("default", "web"), 2h, issuerClock);
  REQUIRE(token.ok());
  core::FakeClock verifierClock;  // an hour behind
  CHECK(signer.verify(*token, audience(), verifierClock).error == TokenError::not_yet_valid);
}

TEST_CASE("malformed tokens are refused without crashing", "[ca][token]") {
  core::FakeClock clock;
  TokenSigner signer(test::newKey());
  auto good = signer.create(test::spiffe("default", "web"), 1h, clock);
  REQUIRE(good.ok());
  std::string header = good->substr(0, good->find('.'));
  // {"alg":"none"} and {"sub":1}: an unsigned token must never pass.
  std::string noneHeader = "eyJhbGciOiJub25lIn0";
  std::vector<std::string> bad = {
      "",
      ".",
      "..",
      "a.b.c",
      "a.b",
      "a.b.c.d",
      std::string(5000, 'a'),
      noneHeader + good->substr(good->find('.')),
      noneHeader + good->substr(good->find('.'), good->rfind('.') - good->find('.')) + ".",
      header + ".eyJzdWIiOjF9." + good->substr(good->rfind('.') + 1),
      std::string("\0\xff\xfe.\x01.\x02", 7),
      good->substr(0, good->size() - 3),
      *good + "=",
  };
  for (const auto& token : bad) {
    auto verdict = signer.verify(token, audience(), clock);
    INFO("token: " << token.substr(0, 80));
    CHECK_FALSE(verdict.ok());
    CHECK((verdict.error == TokenError::malformed || verdict.error == TokenError::bad_signature));
    CHECK_FALSE(verdict.reason.empty());
  }
}

TEST_CASE("a token ttl must be positive", "[ca][token]") {
  core::FakeClock clock;
  TokenSigner signer(test::newKey());
  CHECK_FALSE(signer.create(test::spiffe("default", "web"), 0s, clock).ok());
}
