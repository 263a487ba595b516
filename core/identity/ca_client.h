// The workload side of the CA protocol (docs/protocol.md, "Certificate signing"): one request
// for a certificate over its own TLS connection. CsrExchange makes a fresh key, sends a CSR
// for the identity with a bootstrap token (first time) or over a TLS connection that presents
// the current certificate (renewal), and checks the answer (the leaf is for our key and our
// identity and verifies against the trust bundle it came with) before handing it over.
//
// The CA must present the certificate of caSpiffeId(trust domain), verified against the roots
// the workload was given: no other workload of the mesh can pose as the CA to collect tokens.
//
// CsrExchange owns its connection and timer; destroying it cancels the request (the callback
// does not run). It must not outlive the Loop.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/base/clock.h"
#include "core/base/status.h"
#include "core/loop/address.h"
#include "core/loop/loop.h"
#include "core/loop/timer.h"
#include "core/tls/spiffe.h"
#include "core/tls/x509.h"

namespace mesh::core {

class FramedConnection;
class TlsContext;
class TlsStream;

// "spiffe://<trust-domain>/ns/mesh-system/sa/mesh-ca": the identity `mesh ca` serves with.
std::string caSpiffeId(std::string_view trustDomain);

// The identity a bootstrap token names, read WITHOUT checking its signature (only the CA can
// do that): for a workload to know what to put in its CSR.
Result<SpiffeId> peekTokenIdentity(std::string_view token);

// A workload's identity as the CA issued it.
struct IssuedIdentity {
  PrivateKey key;
  CertificateList chain;        // leaf first
  CertificateList trustBundle;  // every root to trust
  SpiffeId id;
  Clock::TimePoint notBefore;
  Clock::TimePoint notAfter;
};

// Writes Istio's file names into `dir` (created 0700 if missing): key.pem (0600),
// cert-chain.pem, root-cert.pem. Each file is replaced atomically.
Status writeIdentityFiles(const std::string& dir, const IssuedIdentity& identity);

struct CsrRequest {
  SocketAddress ca{};
  CertificateList caRoots{};  // trust for the CA's serving certificate
  SpiffeId id;                // the identity to ask for
  std::string token{};        // bootstrap; empty when renewing
  // Renewal: the current certificate and key, presented as the TLS client certificate.
  CertificateList currentChain{};
  std::optional<PrivateKey> currentKey{};
  std::chrono::seconds ttl{0};  // 0: the CA's default
  std::chrono::milliseconds timeout{10'000};
  const Clock* clock = nullptr;  // certificate checks; null for the system clock
};

class CsrExchange {
 public:
  using Callback = std::function<void(Result<IssuedIdentity>)>;
  // Starts the request; `done` runs exactly once unless the exchange is destroyed first.
  static Result<std::unique_ptr<CsrExchange>> start(Loop& loop, CsrRequest request, Callback done);
  ~CsrExchange();
  CsrExchange(const CsrExchange&) = delete;
  CsrExchange& operator=(const CsrExchange&) = delete;

 private:
  class Handler;
  CsrExchange(Loop& loop, CsrRequest request, Callback done);
  Status begin();
  void finish(Result<IssuedIdentity> result);
  Result<IssuedIdentity> accept(const nlohmann::json& answer) const;

  Loop& loop_;
  CsrRequest request_;
  Callback done_;
  std::optional<PrivateKey> key_;
  std::string csrPem_;
  std::shared_ptr<TlsContext> tls_;
  std::unique_ptr<Handler> handler_;
  Timer timer_;
  std::unique_ptr<TlsStream> pending_;            // until the handshake completes
  std::unique_ptr<FramedConnection> connection_;  // then the stream lives here
};

// Blocking form for the CLI (`mesh ca csr`): runs a private loop until the answer arrives.
Result<IssuedIdentity> requestCertificateBlocking(CsrRequest request);

}  // namespace mesh::core
