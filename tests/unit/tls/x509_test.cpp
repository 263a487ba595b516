#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>

#include "core/tls/csr.h"
#include "core/tls/spiffe.h"
#include "core/tls/x509.h"
#include "tests/unit/tls/pki.h"

using namespace mesh::core;
using namespace mesh::test;

TEST_CASE("SPIFFE ids parse, format and validate", "[tls][spiffe]") {
  auto id = SpiffeId::parse("spiffe://cluster.local/ns/default/sa/web");
  REQUIRE(id.ok());
  CHECK(id->trustDomain() == "cluster.local");
  CHECK(id->ns() == "default");
  CHECK(id->serviceAccount() == "web");
  CHECK(id->toString() == "spiffe://cluster.local/ns/default/sa/web");

  auto made = SpiffeId::make("example.org", "prod", "api-v2_x");
  REQUIRE(made.ok());
  CHECK(made->toString() == "spiffe://example.org/ns/prod/sa/api-v2_x");
  CHECK(*SpiffeId::parse(made->toString()) == *made);

  for (const char* bad :
       {"", "spiffe://", "http://cluster.local/ns/a/sa/b", "spiffe://cluster.local",
        "spiffe://cluster.local/", "spiffe://Cluster.local/ns/a/sa/b",  // upper-case domain
        "spiffe://cluster.local:8080/ns/a/sa/b", "spiffe://user@cluster.local/ns/a/sa/b",
        "spiffe://cluster.local/ns/a/sa/", "spiffe://cluster.local/ns//sa/b",
        "spiffe://cluster.local/ns/a/sa/b/extra", "spiffe://cluster.local/sa/b/ns/a",
        "spiffe://cluster.local/ns/../sa/b", "spiffe://cluster.local/ns/a/sa/b?x=1",
        "spiffe://cluster.local/ns/a/sa/b#frag", "spiffe://cluster.local/ns/a b/sa/c",
        "SPIFFE://cluster.local/ns/a/sa/b", "spiffe:///ns/a/sa/b"}) {
    INFO(bad);
    auto parsed = SpiffeId::parse(bad);
    CHECK_FALSE(parsed.ok());
    if (!parsed.ok()) CHECK(parsed.status().code() == Code::invalid);
  }
  CHECK_FALSE(SpiffeId::make("", "a", "b").ok());
  CHECK_FALSE(SpiffeId::make("td", ".", "b").ok());
  CHECK_FALSE(SpiffeId::parse("spiffe://a/ns/b/sa/" + std::string(3000, 'x')).ok());
}

TEST_CASE("keys and certificates round-trip through PEM and files", "[tls][x509]") {
  Ca ca = makeCa("Round Trip Root");
  Identity leaf = issue(ca, "spiffe://cluster.local/ns/default/sa/web");

  // Keys.
  std::string keyPem = leaf.key.toPem();
  CHECK(keyPem.rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);
  auto key = PrivateKey::fromPem(keyPem);
  REQUIRE(key.ok());
  CHECK(key->publicKey() == leaf.key.publicKey());
  CHECK_FALSE(key->publicKey() == ca.key.publicKey());
  auto pub = PublicKey::fromPem(leaf.key.publicKey().toPem());
  REQUIRE(pub.ok());
  CHECK(*pub == leaf.key.publicKey());
  CHECK(leaf.key.publicKey().toPem().find("PRIVATE") == std::string::npos);

  auto badKey = PrivateKey::fromPem("not a key");
  REQUIRE_FALSE(badKey.ok());
  CHECK(badKey.status().code() == Code::invalid);

  // Certificates and chains.
  auto cert = Certificate::fromPem(leaf.chain[0].toPem());
  REQUIRE(cert.ok());
  CHECK(*cert == leaf.chain[0]);
  auto der = Certificate::fromDer(cert->toDer());
  REQUIRE(der.ok());
  CHECK(*der == *cert);
  std::string bundlePem = certificatesToPem({leaf.chain[0], ca.cert});
  // Blocks other than certificates (a key in a combined file) are skipped.
  auto chain = parseCertificatesPem(bundlePem + keyPem);
  REQUIRE(chain.ok());
  REQUIRE(chain->size() == 2);
  CHECK((*chain)[0] == leaf.chain[0]);
  CHECK((*chain)[1] == ca.cert);
  CHECK_FALSE(parseCertificatesPem("").ok());
  CHECK_FALSE(parseCertificatesPem(keyPem).ok());
  CHECK_FALSE(
      parseCertificatesPem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").ok());

  // Files: the key file is 0600, certificates 0644; both load back.
  TempDir dir;
  REQUIRE(writePrivateKeyFile(dir.file("key.pem"), leaf.key).ok());
  REQUIRE(writeCertificatesFile(dir.file("chain.pem"), {leaf.chain[0], ca.cert}).ok());
  struct stat st {};
  REQUIRE(::stat(dir.file("key.pem").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat(dir.file("chain.pem").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
  // Overwriting an existing, wider file still leaves 0600.
  ::chmod(dir.file("key.pem").c_str(), 0644);
  REQUIRE(writePrivateKeyFile(dir.file("key.pem"), leaf.key).ok());
  REQUIRE(::stat(dir.file("key.pem").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  auto loadedKey = loadPrivateKeyFile(dir.file("key.pem"));
  REQUIRE(loadedKey.ok());
  CHECK(leaf.chain[0].matches(*loadedKey));
  auto loadedChain = loadCertificatesFile(dir.file("chain.pem"));
  REQUIRE(loadedChain.ok());
  CHECK(loadedChain->size() == 2);
  auto missing = loadCertificatesFile(dir.file("nope.pem"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == Code::not_found);
  // A key error names the file and the problem, never the content.
  std::ofstream(dir.file("garbage.pem"))
      << "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n";
  auto garbage = loadPrivateKeyFile(dir.file("garbage.pem"));
  REQUIRE_FALSE(garbage.ok());
  CHECK(garbage.status().message().find("garbage.pem") != std::string::npos);
  CHECK(garbage.status().message().find("c2VjcmV0") == std::string::npos);
}

TEST_CASE("roots and leaves carry the extensions the mesh needs", "[tls][x509]") {
  auto start = now() - 1h;
  auto end = now() + 48h;
  Ca ca = makeCa("Mesh Root", start, end);
  CHECK(ca.cert.isCa());
  CHECK(ca.cert.subject() == "CN=Mesh Root,O=mesh test");
  CHECK(ca.cert.issuer() == ca.cert.subject());
  CHECK(ca.cert.commonName() == "Mesh Root");
  CHECK(std::chrono::abs(ca.cert.notBefore() - start) < 2s);
  CHECK(std::chrono::abs(ca.cert.notAfter() - end) < 2s);
  CHECK(ca.cert.matches(ca.key));
  CHECK_FALSE(ca.cert.spiffeId().ok());

  Identity leaf = issue(ca, "spiffe://cluster.local/ns/shop/sa/cart");
  const Certificate& c = leaf.chain[0];
  CHECK_FALSE(c.isCa());
  CHECK(c.issuer() == ca.cert.subject());
  CHECK(c.uriSans() == std::vector<std::string>{"spiffe://cluster.local/ns/shop/sa/cart"});
  auto id = c.spiffeId();
  REQUIRE(id.ok());
  CHECK(id->ns() == "shop");
  CHECK(id->serviceAccount() == "cart");
  CHECK(c.matches(leaf.key));
  CHECK_FALSE(c.matches(ca.key));
  CHECK(c.sha256Fingerprint().size() == 64);

  // Serials are random and positive.
  Identity other = issue(ca, "spiffe://cluster.local/ns/shop/sa/cart");
  CHECK(c.serialHex() != other.chain[0].serialHex());
  CHECK(c.serialHex().size() == 32);
  CHECK(c.serialHex()[0] <= '7');

  CHECK(verifyCertificateChain(leaf.chain, {ca.cert}, now()).ok());
  Ca stranger = makeCa("Stranger Root");
  Status refused = verifyCertificateChain(leaf.chain, {stranger.cert}, now());
  CHECK(refused.code() == Code::denied);
  CHECK(refused.message().find("unable to get local issuer certificate") != std::string::npos);
  Status late = verifyCertificateChain(leaf.chain, {ca.cert}, now() + 2h);
  CHECK(late.message().find("certificate has expired") != std::string::npos);

  // An intermediate CA signs leaves; the chain verifies through it.
  auto interKey = PrivateKey::generateP256();
  REQUIRE(interKey.ok());
  CertificateTemplate it;
  it.commonName = "Mesh Intermediate";
  it.isCa = true;
  it.maxPathLength = 0;
  it.notBefore = now() - 1h;
  it.notAfter = now() + 24h;
  auto inter = signCertificate(it, interKey->publicKey(), ca.cert, ca.key);
  REQUIRE(inter.ok());
  CHECK(inter->isCa());
  Identity deep = issue(Ca{*interKey, *inter}, "spiffe://cluster.local/ns/a/sa/b");
  CHECK(verifyCertificateChain({deep.chain[0], *inter}, {ca.cert}, now()).ok());

  // Misuse is refused.
  CertificateTemplate bad;
  bad.spiffeId = spiffe("spiffe://cluster.local/ns/a/sa/b");
  bad.notBefore = now();
  bad.notAfter = now() - 1h;
  CHECK(signCertificate(bad, leaf.key.publicKey(), ca.cert, ca.key).status().code() ==
        Code::invalid);
  bad.notAfter = now() + 1h;
  CHECK_FALSE(signCertificate(bad, leaf.key.publicKey(), c, leaf.key).ok());  // leaf as issuer
  CHECK_FALSE(signCertificate(bad, leaf.key.publicKey(), ca.cert, leaf.key).ok());  // wrong key
  CHECK_FALSE(createSelfSigned(bad, leaf.key).ok());                                // not a CA
}

TEST_CASE("the openssl CLI accepts our certificates and sees the URI SAN and EKU",
          "[tls][x509][openssl]") {
  REQUIRE(haveOpenssl());
  TempDir dir;
  Ca ca = makeCa("CLI Root");
  Identity leaf = issue(ca, "spiffe://cluster.local/ns/default/sa/web");
  REQUIRE(writeCertificatesFile(dir.file("root.pem"), {ca.cert}).ok());
  REQUIRE(writeCertificatesFile(dir.file("leaf.pem"), leaf.chain).ok());
  REQUIRE(writePrivateKeyFile(dir.file("leaf.key"), leaf.key).ok());

  auto verify = run("openssl verify -CAfile " + dir.file("root.pem") + " " + dir.file("leaf.pem"));
  INFO(verify.output);
  CHECK(verify.exitCode == 0);
  CHECK(verify.output.find(": OK") != std::string::npos);
  // Purpose checks: the leaf serves both ends of mutual TLS.
  for (const char* purpose : {"sslserver", "sslclient"}) {
    auto p = run("openssl verify -purpose " + std::string(purpose) + " -CAfile " +
                 dir.file("root.pem") + " " + dir.file("leaf.pem"));
    INFO(p.output);
    CHECK(p.exitCode == 0);
  }

  auto text = run("openssl x509 -noout -text -in " + dir.file("leaf.pem"));
  INFO(text.output);
  REQUIRE(text.exitCode == 0);
  CHECK(text.output.find("URI:spiffe://cluster.local/ns/default/sa/web") != std::string::npos);
  CHECK(text.output.find("TLS Web Server Authentication, TLS Web Client Authentication") !=
        std::string::npos);
  CHECK(text.output.find("Digital Signature, Key Encipherment") != std::string::npos);
  CHECK(text.output.find("CA:FALSE") != std::string::npos);
  CHECK(text.output.find("prime256v1") != std::string::npos);
  CHECK(text.output.find("ecdsa-with-SHA256") != std::string::npos);

  auto rootText = run("openssl x509 -noout -text -in " + dir.file("root.pem"));
  INFO(rootText.output);
  CHECK(rootText.output.find("CA:TRUE") != std::string::npos);
  CHECK(rootText.output.find("Certificate Sign, CRL Sign") != std::string::npos);

  // The key file is a standard PKCS#8 key matching the certificate.
  auto keyPub = run("openssl pkey -pubout -in " + dir.file("leaf.key"));
  auto certPub = run("openssl x509 -noout -pubkey -in " + dir.file("leaf.pem"));
  CHECK(keyPub.exitCode == 0);
  CHECK(keyPub.output == certPub.output);

  // A root the leaf was not signed by fails the independent check too.
  Ca stranger = makeCa("Stranger");
  REQUIRE(writeCertificatesFile(dir.file("stranger.pem"), {stranger.cert}).ok());
  auto refused =
      run("openssl verify -CAfile " + dir.file("stranger.pem") + " " + dir.file("leaf.pem"));
  CHECK(refused.exitCode != 0);
}

TEST_CASE("CSR round trip: create, parse, verify, read the URI SAN", "[tls][csr]") {
  auto key = PrivateKey::generateP256();
  REQUIRE(key.ok());
  auto id = spiffe("spiffe://cluster.local/ns/default/sa/web");
  auto pem = createCsrPem(*key, id, "web");
  REQUIRE(pem.ok());
  CHECK(pem->rfind("-----BEGIN CERTIFICATE REQUEST-----", 0) == 0);

  auto info = parseCsrPem(*pem);
  INFO(info.status().toString());
  REQUIRE(info.ok());
  CHECK(info->publicKey == key->publicKey());
  CHECK(info->uriSans == std::vector<std::string>{id.toString()});
  CHECK(info->subject == "CN=web");

  // Without a common name the subject is empty.
  auto bare = parseCsrPem(*createCsrPem(*key, id));
  REQUIRE(bare.ok());
  CHECK(bare->subject.empty());
  CHECK(bare->uriSans.size() == 1);

  // The CA signs a leaf from the CSR's public key; it verifies and carries the id.
  Ca ca = makeCa("CSR Root");
  CertificateTemplate t;
  t.spiffeId = *SpiffeId::parse(info->uriSans[0]);
  t.notBefore = now() - 1min;
  t.notAfter = now() + 1h;
  auto cert = signCertificate(t, info->publicKey, ca.cert, ca.key);
  REQUIRE(cert.ok());
  CHECK(cert->matches(*key));
  CHECK(cert->spiffeId()->toString() == id.toString());

  // A request whose body was altered fails the signature check.
  {
    // Flip one character of the base64 body in the middle of the request info.
    std::string tampered = *pem;
    size_t pos = tampered.find('\n') + 40;
    tampered[pos] = tampered[pos] == 'A' ? 'B' : 'A';
    auto parsed = parseCsrPem(tampered);
    CHECK_FALSE(parsed.ok());
    if (!parsed.ok()) CHECK(parsed.status().code() == Code::invalid);
  }
  CHECK_FALSE(parseCsrPem("garbage").ok());
  CHECK(parseCsrPem(std::string(70000, 'A')).status().code() == Code::too_large);

  // openssl agrees: the signature verifies and the SAN is requested.
  REQUIRE(haveOpenssl());
  TempDir dir;
  std::ofstream(dir.file("req.pem")) << *pem;
  auto check = run("openssl req -noout -verify -text -in " + dir.file("req.pem"));
  INFO(check.output);
  CHECK(check.exitCode == 0);
  CHECK(check.output.find("URI:spiffe://cluster.local/ns/default/sa/web") != std::string::npos);
}

TEST_CASE("a CSR made by openssl parses and verifies", "[tls][csr][openssl]") {
  REQUIRE(haveOpenssl());
  TempDir dir;
  auto made = run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " +
                  dir.file("k.pem") + " -out " + dir.file("r.pem") +
                  " -subj /CN=ext -addext subjectAltName=URI:spiffe://td/ns/n/sa/s");
  INFO(made.output);
  REQUIRE(made.exitCode == 0);
  auto pem = readFileBounded(dir.file("r.pem"));
  REQUIRE(pem.ok());
  auto info = parseCsrPem(*pem);
  INFO(info.status().toString());
  REQUIRE(info.ok());
  CHECK(info->uriSans == std::vector<std::string>{"spiffe://td/ns/n/sa/s"});
  auto key = loadPrivateKeyFile(dir.file("k.pem"));
  REQUIRE(key.ok());
  CHECK(info->publicKey == key->publicKey());
}
