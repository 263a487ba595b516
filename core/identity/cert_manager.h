// CertificateManager: keeps a workload's identity certificate valid for as long as the
// workload runs. It asks the CA for a first certificate with the bootstrap token, renews it
// (presenting the current certificate) once half its lifetime has passed, give or take a
// jitter that spreads the renewals of workloads started together, and, when the CA cannot be
// reached, retries with jittered exponential backoff while the current certificate keeps
// serving. Each new certificate (with the trust bundle that came with it) is installed into
// every attached TlsContext by hot swap: open connections keep the one they started with,
// new handshakes use the new one.
//
// Time: renewal is due at a wall-clock instant (certificates expire in wall-clock time), read
// from the Clock; a timer wakes the manager at most every checkInterval to compare, so a
// FakeClock drives it in tests and a suspended machine renews as soon as it wakes.
//
// Ownership: the manager owns the exchange in flight and its timer; attached contexts are
// shared with their users. The Loop and Clock are borrowed.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/base/clock.h"
#include "core/identity/ca_client.h"
#include "core/loop/address.h"
#include "core/loop/loop.h"
#include "core/loop/timer.h"
#include "core/proto/backoff.h"
#include "core/tls/context.h"

namespace mesh::core {

struct CertificateManagerOptions {
  SocketAddress ca{};
  CertificateList caRoots{};  // to verify the CA at first; later the latest trust bundle too
  SpiffeId id;
  std::string token{};          // for the first certificate
  std::chrono::seconds ttl{0};  // 0: the CA's default
  // Renew when this fraction of the lifetime (from receipt to notAfter) has passed, moved by
  // up to +-jitter (a fraction of the lifetime too), drawn once per certificate.
  double renewAt = 0.5;
  double jitter = 0.05;
  std::chrono::milliseconds initialBackoff{1'000};
  std::chrono::milliseconds maxBackoff{60'000};
  std::chrono::milliseconds checkInterval{1'000};
  std::chrono::milliseconds requestTimeout{10'000};
  std::string outDir{};  // when set, key.pem / cert-chain.pem / root-cert.pem are kept there
  std::uint64_t seed = std::random_device{}();
};

class CertificateManager {
 public:
  // Runs after each new certificate is installed.
  using Listener = std::function<void(const IssuedIdentity&)>;

  CertificateManager(Loop& loop, const Clock& clock, CertificateManagerOptions options);
  ~CertificateManager();
  CertificateManager(const CertificateManager&) = delete;
  CertificateManager& operator=(const CertificateManager&) = delete;

  // Asks for the first certificate now.
  void start();
  // Installs every future certificate into `context` (and the current one at once).
  Status attach(std::shared_ptr<TlsContext> context);
  void setListener(Listener listener) { listener_ = std::move(listener); }

  const std::optional<IssuedIdentity>& current() const { return current_; }
  // When the next request is due (renewal or retry); the epoch when nothing is scheduled.
  Clock::TimePoint nextAttempt() const { return due_; }
  int issued() const { return issued_; }      // certificates received
  int failures() const { return failures_; }  // requests that failed
  const Status& lastError() const { return lastError_; }

 private:
  void request();
  void onAnswer(Result<IssuedIdentity> result);
  void install(IssuedIdentity identity);
  void scheduleAt(Clock::TimePoint due);
  void onTick();

  Loop& loop_;
  const Clock& clock_;
  CertificateManagerOptions options_;
  Backoff backoff_;
  std::mt19937_64 random_;
  Listener listener_;
  std::vector<std::shared_ptr<TlsContext>> contexts_;
  std::optional<IssuedIdentity> current_;
  Clock::TimePoint due_{};
  int issued_ = 0;
  int failures_ = 0;
  Status lastError_;
  Timer timer_;
  std::unique_ptr<CsrExchange> exchange_;
};

}  // namespace mesh::core
