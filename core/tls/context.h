// TLS configuration shared by many connections: role, certificate chain and key, trust
// bundle, peer policy, ALPN, resumption. A TlsContext hands out TlsSessions (context.h's
// companion, session.h), one per connection.
//
// Policy, fixed for the whole mesh: TLS 1.2 or 1.3 (1.3 preferred, or 1.3 only), X25519 first
// (P-256 as fallback), AES-GCM suites only for TLS 1.2 (TLS 1.3 suites are not configurable in
// BoringSSL: AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305, AES first on AES hardware). Peers
// are verified against the trust bundle only (no system roots, no DNS host name check): the
// identity that matters is the peer's SPIFFE id, checked against a PeerPolicy.
#pragma once

#include "core/tls/boringssl.h"

#include <openssl/ssl.h>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/base/clock.h"
#include "core/base/status.h"
#include "core/tls/spiffe.h"
#include "core/tls/x509.h"

namespace mesh::core {

class TlsSession;
class TlsContext;

enum class TlsRole { client, server };

// Which verified peers are accepted, checked after the chain verifies against the trust
// bundle. The peer's certificate must carry exactly one valid SPIFFE id unless
// requireSpiffeId is false (and then the other fields must be empty).
struct PeerPolicy {
  bool requireSpiffeId = true;
  std::string trustDomain{};         // non-empty: the peer's id must be in this trust domain
  std::vector<SpiffeId> allowIds{};  // non-empty: the peer's id must be one of these

  // Why `id` is refused, or ok.
  Status check(const std::optional<SpiffeId>& id) const;
};

struct TlsOptions {
  TlsRole role = TlsRole::client;
  // Our certificate chain, leaf first, and its key. Required on a server; on a client, needed
  // to answer a server that asks for a certificate (mutual TLS).
  CertificateList chain{};
  std::optional<PrivateKey> key{};
  // Roots the peer's chain must lead to; several roots may be trusted at once (rotation,
  // federation). Required when verifyPeer is set.
  CertificateList trustBundle{};
  // Client: verify the server. Server: require a client certificate and verify it.
  bool verifyPeer = true;
  PeerPolicy peer{};  // the default for every session of this context
  // ALPN protocol ids. Client: offered in this order. Server: the first of these that the
  // client offers is chosen; no overlap means no ALPN (the handshake goes on).
  std::vector<std::string> alpn{};
  bool tls13Only = false;
  // Server: session tickets. Client: a small per-context cache of sessions keyed by
  // TlsSessionOptions::sessionKey, so a reconnect resumes. Every swap clears the client cache,
  // and a server's swap starts new ticket keys: no session outlives the material it was
  // verified with.
  bool sessionResumption = true;
  // The time certificates are checked against; null for the system clock.
  const Clock* clock = nullptr;
  // Server: sees the client's SNI ("" when none) before the certificate is chosen. Return
  // nullptr to present this context's certificate, another server context to present its
  // certificate and key instead (this context's verification, ALPN and policy still apply),
  // or an error to refuse the handshake (alert unrecognized_name).
  std::function<Result<std::shared_ptr<TlsContext>>(const std::string& serverName)>
      selectByServerName{};
};

// Designated initializers work: {.serverName = "ca.mesh-system", .peer = policy}.
struct TlsSessionOptions {
  std::string serverName{};          // client: the SNI to send; empty sends none
  std::string sessionKey{};          // client: resumption cache key; defaults to serverName
  std::optional<PeerPolicy> peer{};  // replaces the context's PeerPolicy for this connection
  std::optional<std::vector<std::string>> alpn{};  // client: replaces the context's ALPN list
};

namespace tls_internal {
struct Settings;
}

class TlsContext {
 public:
  static Result<std::shared_ptr<TlsContext>> create(TlsOptions options);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  TlsRole role() const;

  // A new connection's TLS engine, using the configuration current at this call.
  Result<std::unique_ptr<TlsSession>> newSession(const TlsSessionOptions& options = {});

  // Hot swap, safe from any thread. Builds a complete new SSL_CTX from the new material,
  // then swaps it in: handshakes started after the call use it; sessions created before it
  // keep the SSL_CTX they were created with until they end. On error nothing changes.
  Status updateCredentials(CertificateList chain, PrivateKey key);
  Status updateTrustBundle(CertificateList bundle);
  Status update(CertificateList chain, PrivateKey key, CertificateList bundle);

  // The leaf certificate new handshakes present (nullopt when none).
  std::optional<Certificate> certificate() const;
  // Incremented by every successful update.
  uint64_t generation() const;

  // The current SSL_CTX (one reference). For TlsSession and SNI selection.
  bssl::UniquePtr<SSL_CTX> currentSslCtx() const;

 private:
  struct Material {
    CertificateList chain;
    std::optional<PrivateKey> key;
    CertificateList trustBundle;
  };
  TlsContext(std::shared_ptr<tls_internal::Settings> settings, Material material,
             bssl::UniquePtr<SSL_CTX> ctx);
  static Result<bssl::UniquePtr<SSL_CTX>> build(const tls_internal::Settings& settings,
                                                const Material& material);
  Status swap(Material material);

  // Why a fresh SSL_CTX per swap rather than SSL_set_SSL_CTX from a certificate callback:
  // an SSL holds a reference to the SSL_CTX it was created from, so handshakes and open
  // connections keep a complete, consistent configuration (chain, key and trust store
  // together) while new sessions pick up the new one, with no per-handshake callback and no
  // lock on the data path beyond copying one pointer. It works the same for clients (whose
  // certificate is chosen by the library) and servers, and the trust store changes with the
  // certificate in one step. The old SSL_CTX is freed when its last connection closes.
  std::shared_ptr<tls_internal::Settings> settings_;
  mutable std::mutex mutex_;
  Material material_;             // guarded by mutex_
  bssl::UniquePtr<SSL_CTX> ctx_;  // guarded by mutex_
  uint64_t generation_ = 0;       // guarded by mutex_
};

}  // namespace mesh::core
