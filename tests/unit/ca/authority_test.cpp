#include <catch2/catch.hpp>

#include "ca/authority.h"
#include "tests/unit/ca/ca_fixture.h"

using namespace mesh;
using namespace std::chrono_literals;
using ca::Refusal;
using nlohmann::json;

namespace {
json csrMessage(const std::string& csr, const std::string& token, int ttl = 0) {
  json m = {{"type", "csr"}, {"csr", csr}};
  if (!token.empty()) m["token"] = token;
  if (ttl) m["ttl_seconds"] = ttl;
  return m;
}

core::CertificateList chainOf(const json& answer) {
  REQUIRE(answer["type"] == "certificate");
  auto chain = core::parseCertificatesPem(answer["chain"].get<std::string>());
  REQUIRE(chain.ok());
  return *chain;
}

void checkRefused(test::CaUnderTest& ca, const json& answer, Refusal why, const char* code) {
  INFO(answer.dump());
  CHECK(answer["type"] == "error");
  CHECK(answer["code"] == code);
  CHECK_FALSE(answer["reason"].get<std::string>().empty());
  CHECK(ca.metrics.refusalCount(why) == 1);
  CHECK(ca.metrics.issuedCount() == 0);
}
}  // namespace

TEST_CASE("a bootstrap token yields a certificate for its identity", "[ca][authority]") {
  test::CaUnderTest ca;
  auto key = test::newKey();
  auto id = test::spiffe("default", "web");
  json answer =
      ca.authority->handleCsr(csrMessage(test::csrFor(key, id), ca.token(id), 600), {}, "test");
  auto chain = chainOf(answer);
  CHECK(chain.front().matches(key));
  CHECK(chain.front().uriSans() == std::vector<std::string>{id.toString()});
  CHECK(answer["identity"] == id.toString());
  CHECK(answer["not_after"] ==
        std::chrono::duration_cast<std::chrono::seconds>((ca.clock.now() + 600s).time_since_epoch())
            .count());
  auto bundle = core::parseCertificatesPem(answer["trust_bundle"].get<std::string>());
  REQUIRE(bundle.ok());
  CHECK(core::verifyCertificateChain(chain, *bundle, ca.clock.now()).ok());
  CHECK(ca.metrics.issuedCount() == 1);
  CHECK(ca.metrics.requestCount() == 1);
}

TEST_CASE("renewal with the current certificate needs no token", "[ca][authority]") {
  test::CaUnderTest ca;
  auto id = test::spiffe("default", "web");
  auto firstKey = test::newKey();
  auto first = chainOf(
      ca.authority->handleCsr(csrMessage(test::csrFor(firstKey, id), ca.token(id)), {}, "t"));
  ca.clock.advance(12h);
  auto nextKey = test::newKey();
  auto renewed =
      chainOf(ca.authority->handleCsr(csrMessage(test::csrFor(nextKey, id), ""), first, "t"));
  CHECK(renewed.front().matches(nextKey));
  CHECK(*renewed.front().spiffeId() == id);

  SECTION("but not for another identity") {
    auto other = test::spiffe("default", "db");
    json answer =
        ca.authority->handleCsr(csrMessage(test::csrFor(test::newKey(), other), ""), first, "t");
    CHECK(answer["type"] == "error");
    CHECK(ca.metrics.refusalCount(Refusal::identity_mismatch) == 1);
  }
  SECTION("and not with an expired certificate") {
    ca.clock.advance(13h);
    json answer = ca.authority->handleCsr(csrMessage(test::csrFor(nextKey, id), ""), first, "t");
    CHECK(answer["type"] == "error");
    CHECK(ca.metrics.refusalCount(Refusal::untrusted_client_cert) == 1);
  }
}

TEST_CASE("a token for one identity never yields a certificate for another", "[ca][authority]") {
  test::CaUnderTest ca;
  auto web = test::spiffe("default", "web");
  auto db = test::spiffe("default", "db");
  json answer =
      ca.authority->handleCsr(csrMessage(test::csrFor(test::newKey(), db), ca.token(web)), {}, "t");
  checkRefused(ca, answer, Refusal::identity_mismatch, "denied");
  CHECK_THAT(answer["reason"].get<std::string>(),
             Catch::Contains("spiffe://cluster.local/ns/default/sa/web"));
}

TEST_CASE("a CSR without a SAN gets the token's identity and nothing else", "[ca][authority]") {
  test::CaUnderTest ca;
  auto key = test::newKey();
  // A CSR for a valid id of another trust domain is still a mismatch; a CSR from
  // createCsrPem always has the URI SAN, so check that DNS names never reach the leaf instead.
  auto id = test::spiffe("default", "web");
  auto chain =
      chainOf(ca.authority->handleCsr(csrMessage(test::csrFor(key, id), ca.token(id)), {}, "t"));
  CHECK(chain.front().dnsSans().empty());
  CHECK(chain.front().uriSans().size() == 1);
}

TEST_CASE("expired, forged and foreign tokens are refused by reason", "[ca][authority]") {
  test::CaUnderTest ca;
  auto id = test::spiffe("default", "web");
  std::string csr = test::csrFor(test::newKey(), id);

  SECTION("expired") {
    std::string token = ca.token(id, 60s);
    ca.clock.advance(61s);
    checkRefused(ca, ca.authority->handleCsr(csrMessage(csr, token), {}, "t"),
                 Refusal::token_expired, "denied");
  }
  SECTION("forged") {
    ca::TokenSigner forger(test::newKey());
    auto token = forger.create(id, 1h, ca.clock);
    checkRefused(ca, ca.authority->handleCsr(csrMessage(csr, *token), {}, "t"),
                 Refusal::token_forged, "denied");
  }
  SECTION("for another mesh") {
    auto foreign = test::spiffe("default", "web", "other.mesh");
    auto token = ca.tokens->create(foreign, 1h, ca.clock);
    checkRefused(
        ca,
        ca.authority->handleCsr(csrMessage(test::csrFor(test::newKey(), foreign), *token), {}, "t"),
        Refusal::token_wrong_audience, "denied");
  }
  SECTION("garbage") {
    checkRefused(ca, ca.authority->handleCsr(csrMessage(csr, "not-a-token"), {}, "t"),
                 Refusal::token_malformed, "denied");
  }
}

TEST_CASE("a client certificate from another trust domain is refused", "[ca][authority]") {
  test::CaUnderTest ours;
  test::CaUnderTest theirs("other.mesh");
  auto foreign = test::spiffe("default", "web", "other.mesh");
  auto theirChain = chainOf(theirs.authority->handleCsr(
      csrMessage(test::csrFor(test::newKey(), foreign), theirs.token(foreign)), {}, "t"));
  json answer = ours.authority->handleCsr(csrMessage(test::csrFor(test::newKey(), foreign), ""),
                                          theirChain, "t");
  checkRefused(ours, answer, Refusal::foreign_trust_domain, "denied");
}

TEST_CASE("a client certificate of our trust domain from an unknown root is refused",
          "[ca][authority]") {
  test::CaUnderTest ours;
  test::CaUnderTest impostor;  // same trust domain, different root
  auto id = test::spiffe("default", "web");
  auto chain = chainOf(impostor.authority->handleCsr(
      csrMessage(test::csrFor(test::newKey(), id), impostor.token(id)), {}, "t"));
  checkRefused(
      ours, ours.authority->handleCsr(csrMessage(test::csrFor(test::newKey(), id), ""), chain, "t"),
      Refusal::untrusted_client_cert, "denied");
}

TEST_CASE("malformed requests are refused as invalid", "[ca][authority]") {
  test::CaUnderTest ca;
  auto id = test::spiffe("default", "web");
  std::string token = ca.token(id);

  SECTION("no credential") {
    checkRefused(ca,
                 ca.authority->handleCsr(csrMessage(test::csrFor(test::newKey(), id), ""), {}, "t"),
                 Refusal::no_credential, "denied");
  }
  SECTION("no csr") {
    checkRefused(ca, ca.authority->handleCsr({{"type", "csr"}, {"token", token}}, {}, "t"),
                 Refusal::bad_request, "invalid");
  }
  SECTION("csr of the wrong type") {
    checkRefused(ca,
                 ca.authority->handleCsr({{"type", "csr"}, {"csr", 42}, {"token", token}}, {}, "t"),
                 Refusal::bad_request, "invalid");
  }
  SECTION("negative ttl") {
    json m = csrMessage(test::csrFor(test::newKey(), id), token);
    m["ttl_seconds"] = -5;
    checkRefused(ca, ca.authority->handleCsr(m, {}, "t"), Refusal::bad_request, "invalid");
  }
  SECTION("not a CSR") {
    checkRefused(
        ca,
        ca.authority->handleCsr(
            csrMessage(
                "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
                token),
            {}, "t"),
        Refusal::bad_csr, "invalid");
  }
  SECTION("a CSR whose signature does not match its key") {
    std::string csr = test::csrFor(test::newKey(), id);
    // Flip one base64 character inside the signature near the end of the PEM body.
    size_t end = csr.find("-----END");
    size_t pos = end - 10;
    csr[pos] = csr[pos] == 'A' ? 'B' : 'A';
    checkRefused(ca, ca.authority->handleCsr(csrMessage(csr, token), {}, "t"), Refusal::bad_csr,
                 "invalid");
  }
}

TEST_CASE("the metrics render every refusal reason from the start", "[ca][authority]") {
  test::CaUnderTest ca;
  std::string text = ca.registry.render();
  for (Refusal r : ca::allRefusals())
    CHECK_THAT(text, Catch::Contains(std::string("mesh_ca_refusals_total{reason=\"") +
                                     ca::refusalName(r) + "\"} 0"));
  CHECK_THAT(text, Catch::Contains("citadel_server_root_cert_expiry_seconds 315"));
}
