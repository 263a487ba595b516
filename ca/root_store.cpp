#include "ca/root_store.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "core/base/log.h"

namespace mesh::ca {
namespace {

using core::Code;
using core::error;

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

core::Status makeDir(const std::string& path) {
  if (path.empty()) return error(Code::invalid, "--data-dir is required");
  if (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return {};
  return error(Code::internal, "mkdir " + path + ": " + std::strerror(errno));
}

core::Result<core::CertificateList> loadCerts(const std::string& path, const char* what) {
  auto certs = core::loadCertificatesFile(path);
  if (!certs)
    return error(certs.status().code(), std::string(what) + ": " + certs.status().message());
  return certs;
}

core::Result<core::PrivateKey> loadKey(const std::string& path, const char* what) {
  auto key = core::loadPrivateKeyFile(path);
  if (!key) return error(key.status().code(), std::string(what) + ": " + key.status().message());
  return key;
}

// The signing certificate must be a CA, hold the key, and be valid now.
core::Status checkSigner(const core::Certificate& cert, const core::PrivateKey& key,
                         const core::Clock& clock) {
  if (!cert.isCa()) return error(Code::invalid, "signing certificate is not a CA certificate");
  if (!cert.matches(key)) return error(Code::invalid, "signing key does not match its certificate");
  if (cert.notAfter() <= clock.now())
    return error(Code::invalid, "signing certificate has expired");
  return {};
}

core::Result<IssuerMaterial> loadDataDir(const RootSource& source, const core::Clock& clock) {
  auto roots = loadCerts(rootCertPath(source.dataDir), "root certificate");
  if (!roots) return roots.status();
  auto key = loadKey(rootKeyPath(source.dataDir), "root key");
  if (!key) return key.status();
  auto bundle = loadCerts(trustBundlePath(source.dataDir), "trust bundle");
  if (!bundle) return bundle.status();
  const core::Certificate& root = roots->front();
  if (auto s = checkSigner(root, *key, clock); !s) return s;
  bool trusted = false;
  for (const auto& r : *bundle) trusted = trusted || r == root;
  if (!trusted) return error(Code::invalid, "the trust bundle does not contain the signing root");
  return IssuerMaterial{root, *key, {root}, *bundle};
}

core::Result<IssuerMaterial> loadPluggedRoot(const RootSource& source, const core::Clock& clock) {
  auto roots = loadCerts(source.rootCert, "--root-cert");
  if (!roots) return roots.status();
  auto key = loadKey(source.rootKey, "--root-key");
  if (!key) return key.status();
  // The first certificate signs; any further ones are other roots to trust (rotation).
  const core::Certificate& root = roots->front();
  if (auto s = checkSigner(root, *key, clock); !s) return s;
  return IssuerMaterial{root, *key, {root}, *roots};
}

core::Result<IssuerMaterial> loadPluggedIntermediate(const RootSource& source,
                                                     const core::Clock& clock) {
  if (source.caKey.empty() || source.rootCert.empty())
    return error(Code::invalid,
                 "--ca-cert needs --ca-key, --root-cert and (for a deeper "
                 "hierarchy) --cert-chain");
  auto ca = loadCerts(source.caCert, "--ca-cert");
  if (!ca) return ca.status();
  auto key = loadKey(source.caKey, "--ca-key");
  if (!key) return key.status();
  auto roots = loadCerts(source.rootCert, "--root-cert");
  if (!roots) return roots.status();
  core::CertificateList chain{ca->front()};
  if (!source.certChain.empty()) {
    auto rest = loadCerts(source.certChain, "--cert-chain");
    if (!rest) return rest.status();
    for (const auto& c : *rest) {
      bool isRoot = false;
      for (const auto& r : *roots) isRoot = isRoot || r == c;
      // Istio's cert-chain.pem starts with ca-cert and ends with the root: drop both.
      if (!(c == ca->front()) && !isRoot) chain.push_back(c);
    }
  }
  if (auto s = checkSigner(chain.front(), *key, clock); !s) return s;
  if (auto s = core::verifyCertificateChain(chain, *roots, clock.now()); !s)
    return error(Code::invalid, "--ca-cert does not chain to --root-cert: " + s.message());
  return IssuerMaterial{chain.front(), *key, chain, *roots};
}

}  // namespace

std::string IssuerMaterial::fingerprint() const {
  std::string out = cert.sha256Fingerprint();
  for (const auto& c : chain) out.append(":").append(c.sha256Fingerprint());
  out.append("|");
  for (const auto& r : bundle) out.append(r.sha256Fingerprint()).append(":");
  return out;
}

std::string rootCertPath(const std::string& dir) { return dir + "/root-cert.pem"; }
std::string rootKeyPath(const std::string& dir) { return dir + "/root-key.pem"; }
std::string trustBundlePath(const std::string& dir) { return dir + "/trust-bundle.pem"; }
std::string tokenKeyPath(const std::string& dir) { return dir + "/token-key.pem"; }

core::Result<core::Certificate> createRoot(const core::PrivateKey& key,
                                           const std::string& trustDomain, std::chrono::seconds ttl,
                                           const core::Clock& clock) {
  core::CertificateTemplate tmpl;
  tmpl.commonName = "mesh root";
  tmpl.organization = trustDomain;
  // Dated back like the workload certificates (kNotBeforeGrace, signer.h): right after a
  // start or a rotation step, a peer whose clock reads a moment earlier must not find the
  // new root "not yet valid" at the top of a chain.
  tmpl.notBefore = clock.now() - kRootNotBeforeGrace;
  tmpl.notAfter = clock.now() + ttl;
  tmpl.isCa = true;
  return core::createSelfSigned(tmpl, key);
}

core::Status initDataDir(const RootSource& source, const core::Clock& clock) {
  if (auto s = makeDir(source.dataDir); !s) return s;
  if (source.plugged() || exists(rootCertPath(source.dataDir))) return {};
  auto key = core::PrivateKey::generateP256();
  if (!key) return key.status();
  auto root = createRoot(*key, source.trustDomain, source.rootTtl, clock);
  if (!root) return root.status();
  // Key first: a root certificate without its key on disk would be useless.
  if (auto s = core::writePrivateKeyFile(rootKeyPath(source.dataDir), *key); !s) return s;
  if (auto s = core::writeCertificatesFile(trustBundlePath(source.dataDir), {*root}); !s) return s;
  if (auto s = core::writeCertificatesFile(rootCertPath(source.dataDir), {*root}); !s) return s;
  LOG_INFO("ca", "generated a new root for ", source.trustDomain, " in ", source.dataDir,
           " (sha256 ", root->sha256Fingerprint(), ")");
  return {};
}

core::Result<IssuerMaterial> loadIssuer(const RootSource& source, const core::Clock& clock) {
  if (!source.caCert.empty()) return loadPluggedIntermediate(source, clock);
  if (!source.rootKey.empty()) {
    if (source.rootCert.empty()) return error(Code::invalid, "--root-key needs --root-cert");
    return loadPluggedRoot(source, clock);
  }
  return loadDataDir(source, clock);
}

core::Result<core::PrivateKey> loadOrCreateTokenKey(const std::string& dataDir) {
  std::string path = tokenKeyPath(dataDir);
  if (exists(path)) return loadKey(path, "token key");
  if (auto s = makeDir(dataDir); !s) return s;
  auto key = core::PrivateKey::generateP256();
  if (!key) return key.status();
  if (auto s = core::writePrivateKeyFile(path, *key); !s) return s;
  return key;
}

}  // namespace mesh::ca
