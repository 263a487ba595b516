// Shared pieces of the CA unit tests: a temporary directory removed at the end of the test, a
// CA built on a FakeClock around a fresh data directory, and CSRs for workload identities.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "ca/authority.h"
#include "ca/ca_metrics.h"
#include "ca/root_store.h"
#include "ca/signer.h"
#include "ca/token.h"
#include "core/base/clock.h"
#include "core/metrics/registry.h"
#include "core/tls/csr.h"

namespace mesh::test {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mesh-ca-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline core::SpiffeId spiffe(const std::string& ns, const std::string& sa,
                             const std::string& td = "cluster.local") {
  auto id = core::SpiffeId::make(td, ns, sa);
  REQUIRE(id.ok());
  return *id;
}

inline core::PrivateKey newKey() {
  auto key = core::PrivateKey::generateP256();
  REQUIRE(key.ok());
  return *key;
}

inline std::string csrFor(const core::PrivateKey& key, const core::SpiffeId& id) {
  auto pem = core::createCsrPem(key, id);
  REQUIRE(pem.ok());
  return *pem;
}

// A whole CA on a fake clock: data directory, token key, signer and authority.
struct CaUnderTest {
  // `realTime`: the CA (signer, tokens, loading) runs on the system clock instead of `clock`.
  explicit CaUnderTest(std::string trustDomain = "cluster.local", bool realTime = false)
      : time(realTime ? core::Clock::real() : clock), trustDomain(std::move(trustDomain)) {
    source.dataDir = dir.path();
    source.trustDomain = this->trustDomain;
    REQUIRE(ca::initDataDir(source, time).ok());
    auto material = ca::loadIssuer(source, time);
    REQUIRE(material.ok());
    auto tokenKey = ca::loadOrCreateTokenKey(dir.path());
    REQUIRE(tokenKey.ok());
    tokens = std::make_unique<ca::TokenSigner>(*tokenKey);
    signer = std::make_unique<ca::Signer>(ca::SignerOptions{}, time);
    authority = std::make_unique<ca::Authority>(this->trustDomain, *signer, *tokens, metrics, time);
    authority->setIssuer(std::make_shared<const ca::IssuerMaterial>(std::move(*material)));
  }

  std::string token(const core::SpiffeId& id, std::chrono::seconds ttl = std::chrono::hours(1)) {
    auto t = tokens->create(id, ttl, time);
    REQUIRE(t.ok());
    return *t;
  }

  core::FakeClock clock;
  const core::Clock& time;
  TempDir dir;
  std::string trustDomain;
  ca::RootSource source;
  core::metrics::Registry registry;
  ca::CaMetrics metrics{registry};
  std::unique_ptr<ca::TokenSigner> tokens;
  std::unique_ptr<ca::Signer> signer;
  std::unique_ptr<ca::Authority> authority;
};

}  // namespace mesh::test
