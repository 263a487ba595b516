#include "ca/rotation.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/base/log.h"

namespace mesh::ca {
namespace {

using core::Code;
using core::error;

std::string nextCertPath(const std::string& dir) { return dir + "/next-root-cert.pem"; }
std::string nextKeyPath(const std::string& dir) { return dir + "/next-root-key.pem"; }
std::string previousCertPath(const std::string& dir) { return dir + "/previous-root-cert.pem"; }

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

core::Status removeFile(const std::string& path) {
  if (::unlink(path.c_str()) == 0 || errno == ENOENT) return {};
  return error(Code::internal, "remove " + path + ": " + std::strerror(errno));
}

core::Result<core::Certificate> firstCert(const std::string& path) {
  auto certs = core::loadCertificatesFile(path);
  if (!certs) return certs.status();
  return certs->front();
}

}  // namespace

const char* rotationPhaseName(RotationPhase phase) {
  switch (phase) {
    case RotationPhase::idle:
      return "idle";
    case RotationPhase::staged:
      return "staged";
    case RotationPhase::active:
      return "active";
  }
  return "unknown";
}

core::Result<RotationPhase> rotationPhase(const std::string& dir) {
  if (!exists(rootCertPath(dir)))
    return error(Code::not_found, "no CA root in " + dir + " (start `mesh ca` once first)");
  if (exists(nextCertPath(dir))) return RotationPhase::staged;
  if (exists(previousCertPath(dir))) return RotationPhase::active;
  return RotationPhase::idle;
}

core::Status beginRootRotation(const RootSource& source, const core::Clock& clock) {
  const std::string& dir = source.dataDir;
  auto phase = rotationPhase(dir);
  if (!phase) return phase.status();
  if (*phase != RotationPhase::idle)
    return error(Code::invalid, std::string("a rotation is already in progress (phase ") +
                                    rotationPhaseName(*phase) + ")");
  auto bundle = core::loadCertificatesFile(trustBundlePath(dir));
  if (!bundle) return bundle.status();
  auto key = core::PrivateKey::generateP256();
  if (!key) return key.status();
  auto root = createRoot(*key, source.trustDomain, source.rootTtl, clock);
  if (!root) return root.status();
  if (auto s = core::writePrivateKeyFile(nextKeyPath(dir), *key); !s) return s;
  if (auto s = core::writeCertificatesFile(nextCertPath(dir), {*root}); !s) return s;
  bundle->push_back(*root);
  if (auto s = core::writeCertificatesFile(trustBundlePath(dir), *bundle); !s) return s;
  LOG_INFO("ca", "root rotation begun: new root ", root->sha256Fingerprint(),
           " is trusted, the old root still signs");
  return {};
}

core::Status activateRootRotation(const std::string& dir) {
  auto phase = rotationPhase(dir);
  if (!phase) return phase.status();
  if (*phase != RotationPhase::staged)
    return error(Code::invalid, "no staged root to activate (run `rotate-root begin` first)");
  auto oldRoot = firstCert(rootCertPath(dir));
  if (!oldRoot) return oldRoot.status();
  auto next = firstCert(nextCertPath(dir));
  if (!next) return next.status();
  auto nextKey = core::loadPrivateKeyFile(nextKeyPath(dir));
  if (!nextKey) return nextKey.status();
  if (!next->matches(*nextKey)) return error(Code::invalid, "next root key does not match");
  if (auto s = core::writeCertificatesFile(previousCertPath(dir), {*oldRoot}); !s) return s;
  // Between these two writes a reader sees the new key with the old certificate; loadIssuer()
  // refuses that pair and the server keeps its previous material until the next look.
  if (auto s = core::writePrivateKeyFile(rootKeyPath(dir), *nextKey); !s) return s;
  if (auto s = core::writeCertificatesFile(rootCertPath(dir), {*next}); !s) return s;
  if (auto s = removeFile(nextCertPath(dir)); !s) return s;
  if (auto s = removeFile(nextKeyPath(dir)); !s) return s;
  LOG_INFO("ca", "root rotation: new root ", next->sha256Fingerprint(), " now signs");
  return {};
}

core::Status finishRootRotation(const std::string& dir) {
  auto phase = rotationPhase(dir);
  if (!phase) return phase.status();
  if (*phase != RotationPhase::active)
    return error(Code::invalid, "no retired root to remove (run `rotate-root activate` first)");
  auto root = firstCert(rootCertPath(dir));
  if (!root) return root.status();
  auto old = firstCert(previousCertPath(dir));
  if (!old) return old.status();
  auto bundle = core::loadCertificatesFile(trustBundlePath(dir));
  if (!bundle) return bundle.status();
  core::CertificateList kept;
  for (const auto& c : *bundle)
    if (!(c == *old)) kept.push_back(c);
  if (auto s = core::writeCertificatesFile(trustBundlePath(dir), kept); !s) return s;
  if (auto s = removeFile(previousCertPath(dir)); !s) return s;
  LOG_INFO("ca", "root rotation finished: old root ", old->sha256Fingerprint(), " removed");
  return {};
}

core::Result<std::string> describeRoots(const std::string& dir, const core::Clock& clock) {
  auto phase = rotationPhase(dir);
  if (!phase) return phase.status();
  auto signing = firstCert(rootCertPath(dir));
  if (!signing) return signing.status();
  auto bundle = core::loadCertificatesFile(trustBundlePath(dir));
  if (!bundle) return bundle.status();
  std::string out = std::string("phase: ") + rotationPhaseName(*phase) + "\n";
  for (const auto& c : *bundle) {
    auto left = std::chrono::duration_cast<std::chrono::hours>(c.notAfter() - clock.now());
    out += (c == *signing ? "signing  " : "trusted  ") + c.sha256Fingerprint() + "  expires in " +
           std::to_string(left.count() / 24) + " days\n";
  }
  return out;
}

}  // namespace mesh::ca
