// Keys, certificates and PEM for mesh's workload identity: ECDSA P-256 keys, X.509 chains,
// trust bundles, and the certificate builder that tests and the CA's signer use.
//
// The value types hold reference-counted BoringSSL objects: copying one is cheap and shares
// the object, which is never modified after construction. get() hands the raw pointer to
// BoringSSL calls; the object stays owned by the value.
//
// Private key material is never logged and never put in a Status message.
#pragma once

#include "core/tls/boringssl.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/clock.h"
#include "core/base/status.h"
#include "core/tls/spiffe.h"

namespace mesh::core {

class Certificate;

class PublicKey {
 public:
  explicit PublicKey(bssl::UniquePtr<EVP_PKEY> key);  // takes one reference; key != nullptr
  PublicKey(const PublicKey& other);
  PublicKey& operator=(const PublicKey& other);
  PublicKey(PublicKey&&) noexcept = default;
  PublicKey& operator=(PublicKey&&) noexcept = default;

  // A "PUBLIC KEY" (SubjectPublicKeyInfo) PEM block.
  static Result<PublicKey> fromPem(std::string_view pem);
  std::string toPem() const;
  // DER SubjectPublicKeyInfo: stable bytes to compare or hash.
  std::string toDer() const;
  EVP_PKEY* get() const { return key_.get(); }
  friend bool operator==(const PublicKey& a, const PublicKey& b);

 private:
  bssl::UniquePtr<EVP_PKEY> key_;
};

class PrivateKey {
 public:
  explicit PrivateKey(bssl::UniquePtr<EVP_PKEY> key);  // takes one reference; key != nullptr
  PrivateKey(const PrivateKey& other);
  PrivateKey& operator=(const PrivateKey& other);
  PrivateKey(PrivateKey&&) noexcept = default;
  PrivateKey& operator=(PrivateKey&&) noexcept = default;

  // A fresh ECDSA key on P-256 (the mesh's workload and CA key type).
  static Result<PrivateKey> generateP256();
  // Unencrypted "PRIVATE KEY" (PKCS#8), "EC PRIVATE KEY" or "RSA PRIVATE KEY" PEM.
  static Result<PrivateKey> fromPem(std::string_view pem);
  // PKCS#8 "PRIVATE KEY" PEM. Secret: write it only with writePrivateKeyFile().
  std::string toPem() const;
  PublicKey publicKey() const;
  EVP_PKEY* get() const { return key_.get(); }

 private:
  bssl::UniquePtr<EVP_PKEY> key_;
};

class Certificate {
 public:
  explicit Certificate(bssl::UniquePtr<X509> cert);  // takes one reference; cert != nullptr
  Certificate(const Certificate& other);
  Certificate& operator=(const Certificate& other);
  Certificate(Certificate&&) noexcept = default;
  Certificate& operator=(Certificate&&) noexcept = default;

  // The first CERTIFICATE block in `pem`.
  static Result<Certificate> fromPem(std::string_view pem);
  static Result<Certificate> fromDer(std::string_view der);
  std::string toPem() const;
  std::string toDer() const;
  X509* get() const { return cert_.get(); }

  // RFC 2253 form, most specific first: "CN=web,O=mesh".
  std::string subject() const;
  std::string issuer() const;
  std::string commonName() const;  // empty when there is none
  std::string serialHex() const;   // upper-case hex, no separators
  Clock::TimePoint notBefore() const;
  Clock::TimePoint notAfter() const;
  bool isCa() const;  // basicConstraints CA:TRUE
  std::vector<std::string> uriSans() const;
  std::vector<std::string> dnsSans() const;
  // The workload identity: the certificate must carry exactly one spiffe:// URI SAN.
  Result<SpiffeId> spiffeId() const;
  PublicKey publicKey() const;
  // True when `key` is the private half of this certificate's public key.
  bool matches(const PrivateKey& key) const;
  // Lower-case hex SHA-256 of the DER encoding.
  std::string sha256Fingerprint() const;
  friend bool operator==(const Certificate& a, const Certificate& b);

 private:
  bssl::UniquePtr<X509> cert_;
};

// A chain is leaf first, then intermediates (the root may be omitted); a trust bundle is a
// set of roots. Both are plain lists of certificates.
using CertificateList = std::vector<Certificate>;

// Every CERTIFICATE block in `pem`, in order; at least one. Other PEM blocks (e.g. a private
// key in a combined file) are skipped.
Result<CertificateList> parseCertificatesPem(std::string_view pem);
std::string certificatesToPem(const CertificateList& certs);

// Files. Reads are bounded (1 MiB) so a wrong path cannot swallow memory.
Result<std::string> readFileBounded(const std::string& path, size_t maxBytes = 1 << 20);
Result<CertificateList> loadCertificatesFile(const std::string& path);
Result<PrivateKey> loadPrivateKeyFile(const std::string& path);
// Writes via a temporary file in the same directory and rename(), so a reader (hot reload)
// sees the old or the new content, never a part. `mode` is applied to the new file.
Status writeFileAtomic(const std::string& path, std::string_view content, unsigned mode);
// Mode 0600: only the owner reads a private key.
Status writePrivateKeyFile(const std::string& path, const PrivateKey& key);
Status writeCertificatesFile(const std::string& path, const CertificateList& certs);

// What a new certificate says. Subject is CN (+ O when set). Validity is exactly as given
// (the signer decides how it relates to the issuer's own validity).
struct CertificateTemplate {
  std::string commonName{};
  std::string organization{};
  std::optional<SpiffeId> spiffeId{};   // leaf: the single URI SAN
  std::vector<std::string> dnsNames{};  // optional DNS SANs
  Clock::TimePoint notBefore{};
  Clock::TimePoint notAfter{};
  bool isCa = false;
  int maxPathLength = -1;  // CA only: pathLenConstraint, -1 for none
};

// A self-signed CA certificate (a root): basicConstraints critical CA:TRUE, keyUsage critical
// keyCertSign+cRLSign, subjectKeyIdentifier. `tmpl.isCa` must be set.
Result<Certificate> createSelfSigned(const CertificateTemplate& tmpl, const PrivateKey& key);

// Signs `subjectKey` with `issuerKey` under `issuer`. A random positive 128-bit serial,
// SHA-256 with the issuer's key, subject/authority key identifiers. A leaf (isCa false) gets
// basicConstraints critical CA:FALSE, keyUsage critical digitalSignature+keyEncipherment and
// extendedKeyUsage serverAuth+clientAuth, plus the URI SAN (and DNS SANs). An intermediate
// (isCa true) gets the CA extensions of createSelfSigned. The issuer must be a CA whose
// public key matches `issuerKey`.
Result<Certificate> signCertificate(const CertificateTemplate& tmpl, const PublicKey& subjectKey,
                                    const Certificate& issuer, const PrivateKey& issuerKey);

// Verifies `chain` (leaf first) against `roots` at time `at`, as a TLS peer would but without
// the purpose check: for CLI diagnostics and the CA's self-checks.
Status verifyCertificateChain(const CertificateList& chain, const CertificateList& roots,
                              Clock::TimePoint at);

}  // namespace mesh::core
