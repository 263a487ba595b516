// Where the CA's signing material comes from, in one of two ways:
//
// - a data directory the CA manages itself: on first start it generates a root (ECDSA P-256,
//   self-signed) and writes
//       root-cert.pem   the root that signs workload certificates now
//       root-key.pem    its key (mode 0600)
//       trust-bundle.pem every root workloads must trust (the current one, plus the other
//                        during a rotation, see rotation.h)
// - plugged-in files (Istio's "plug-in CA"), so the mesh can sit under a company's PKI: either
//   a root and its key, or an intermediate (ca-cert + ca-key), the chain from it up to the root
//   (cert-chain) and the root(s) to trust (root-cert).
//
// loadIssuer() reads the files every time it is called, and checks that they fit together
// (the key is the certificate's, the chain verifies to a trusted root, nothing has expired),
// so the server can call it again to pick up a rotation without restarting.
#pragma once

#include <chrono>
#include <string>

#include "core/base/clock.h"
#include "core/base/status.h"
#include "core/tls/x509.h"

namespace mesh::ca {

inline constexpr auto kDefaultRootTtl = std::chrono::hours(24 * 365 * 10);
// notBefore of a generated root lies this far in the past (clock skew, see signer.h).
inline constexpr auto kRootNotBeforeGrace = std::chrono::minutes(5);

// What signs and what is trusted, all immutable once loaded.
struct IssuerMaterial {
  core::Certificate cert;        // signs workload certificates (a root or an intermediate)
  core::PrivateKey key;          // cert's key
  core::CertificateList chain;   // cert and the intermediates above it, without the root
  core::CertificateList bundle;  // every trusted root
  // Changes whenever any of the above changes: the server compares it to decide to reload.
  std::string fingerprint() const;
};

struct RootSource {
  // Data-directory mode when `caCert` and `rootKey` are both empty.
  std::string dataDir;
  std::string trustDomain = "cluster.local";
  std::chrono::seconds rootTtl = kDefaultRootTtl;
  // Plugged-in root: rootCert + rootKey. Plugged-in intermediate: caCert + caKey + certChain
  // (the intermediates from caCert up, caCert itself may be included) + rootCert.
  std::string rootCert;
  std::string rootKey;
  std::string caCert;
  std::string caKey;
  std::string certChain;

  bool plugged() const { return !rootKey.empty() || !caCert.empty(); }
};

// File names inside a data directory.
std::string rootCertPath(const std::string& dataDir);
std::string rootKeyPath(const std::string& dataDir);
std::string trustBundlePath(const std::string& dataDir);
std::string tokenKeyPath(const std::string& dataDir);

// A self-signed root for `trustDomain` valid for `ttl` from now (O=<trust domain>, CN=mesh root),
// dated back kRootNotBeforeGrace.
core::Result<core::Certificate> createRoot(const core::PrivateKey& key,
                                           const std::string& trustDomain, std::chrono::seconds ttl,
                                           const core::Clock& clock);

// Creates the data directory (mode 0700) and, in data-directory mode, the root and trust
// bundle when they do not exist yet. Existing files are never overwritten.
core::Status initDataDir(const RootSource& source, const core::Clock& clock);

// Reads and checks the signing material now.
core::Result<IssuerMaterial> loadIssuer(const RootSource& source, const core::Clock& clock);

// The token-signing key in the data directory, created (0600) on first use.
core::Result<core::PrivateKey> loadOrCreateTokenKey(const std::string& dataDir);

}  // namespace mesh::ca
