// Test PKI: roots and workload certificates built with core/tls's own builder, plus a temp
// directory and a runner for the independent `openssl` command-line checks.
#pragma once

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/tls/x509.h"

namespace mesh::test {

using namespace std::chrono_literals;

struct Ca {
  core::PrivateKey key;
  core::Certificate cert;
};

struct Identity {
  core::PrivateKey key;
  core::CertificateList chain;  // leaf first
};

inline core::Clock::TimePoint now() { return std::chrono::system_clock::now(); }

inline core::SpiffeId spiffe(const std::string& text) {
  auto id = core::SpiffeId::parse(text);
  REQUIRE(id.ok());
  return *id;
}

inline Ca makeCa(const std::string& name, core::Clock::TimePoint notBefore = now() - 1h,
                 core::Clock::TimePoint notAfter = now() + 24h) {
  auto key = core::PrivateKey::generateP256();
  REQUIRE(key.ok());
  core::CertificateTemplate t;
  t.commonName = name;
  t.organization = "mesh test";
  t.isCa = true;
  t.notBefore = notBefore;
  t.notAfter = notAfter;
  auto cert = core::createSelfSigned(t, *key);
  INFO(cert.status().toString());
  REQUIRE(cert.ok());
  return {*key, *cert};
}

inline Identity issue(const Ca& ca, const std::string& id,
                      core::Clock::TimePoint notBefore = now() - 1min,
                      core::Clock::TimePoint notAfter = now() + 1h) {
  auto key = core::PrivateKey::generateP256();
  REQUIRE(key.ok());
  core::CertificateTemplate t;
  t.spiffeId = spiffe(id);
  t.notBefore = notBefore;
  t.notAfter = notAfter;
  auto cert = core::signCertificate(t, key->publicKey(), ca.cert, ca.key);
  INFO(cert.status().toString());
  REQUIRE(cert.ok());
  return {*key, {*cert}};
}

// A fresh directory under the system temp dir, removed with the object.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mesh-tls-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exitCode = -1;
  std::string output;  // stdout and stderr
};

// Runs a shell command (popen); for the `openssl` CLI used as an independent checker.
inline CommandResult run(const std::string& command) {
  CommandResult result;
  std::FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) result.output.append(buf, n);
  int status = ::pclose(pipe);
  result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

inline bool haveOpenssl() { return run("command -v openssl").exitCode == 0; }

}  // namespace mesh::test
