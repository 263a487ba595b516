#include "core/tls/context.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <cstring>

#include "core/tls/internal.h"
#include "core/tls/session.h"
#include "core/tls/settings.h"

namespace mesh::core {

using namespace tls_internal;

// ---- PeerPolicy ----

Status PeerPolicy::check(const std::optional<SpiffeId>& id) const {
  if (!id) {
    if (requireSpiffeId || !trustDomain.empty() || !allowIds.empty())
      return error(Code::denied, "peer certificate has no valid SPIFFE id");
    return {};
  }
  if (!trustDomain.empty() && id->trustDomain() != trustDomain)
    return error(Code::denied, "peer " + id->toString() + " is not in trust domain " + trustDomain);
  if (!allowIds.empty()) {
    for (auto& allowed : allowIds)
      if (allowed == *id) return {};
    return error(Code::denied, "peer " + id->toString() + " is not an allowed identity");
  }
  return {};
}

namespace tls_internal {

void SessionCache::put(const std::string& key, bssl::UniquePtr<SSL_SESSION> session) {
  std::lock_guard lock(mutex_);
  if (sessions_.size() >= kMaxEntries && sessions_.find(key) == sessions_.end())
    sessions_.erase(sessions_.begin());
  sessions_[key] = std::move(session);
}

bssl::UniquePtr<SSL_SESSION> SessionCache::take(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return nullptr;
  SSL_SESSION* s = it->second.get();
  if (SSL_SESSION_should_be_single_use(s)) {
    bssl::UniquePtr<SSL_SESSION> out = std::move(it->second);
    sessions_.erase(it);
    return out;
  }
  SSL_SESSION_up_ref(s);
  return bssl::UniquePtr<SSL_SESSION>(s);
}

void SessionCache::clear() {
  std::lock_guard lock(mutex_);
  sessions_.clear();
}

size_t SessionCache::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

Result<std::string> alpnWire(const std::vector<std::string>& protocols) {
  std::string wire;
  for (auto& p : protocols) {
    if (p.empty() || p.size() > 255) return error(Code::invalid, "invalid ALPN id '" + p + "'");
    wire.push_back(static_cast<char>(p.size()));
    wire += p;
  }
  return wire;
}

}  // namespace tls_internal

namespace {

// Chain verification against the context's trust store, then the SPIFFE policy. Runs for
// every full handshake in which the peer sent a certificate.
int verifyPeerChain(X509_STORE_CTX* store, void*) {
  SSL* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  TlsSession* session = TlsSession::fromSsl(ssl);
  if (session == nullptr) {
    X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0;
  }
  if (const Clock* clock = session->settings().clock) {
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(store),
                               std::chrono::system_clock::to_time_t(clock->now()));
  }
  if (X509_verify_cert(store) != 1) {
    session->noteHandshakeFailure(std::string("certificate verify failed: ") +
                                  X509_verify_cert_error_string(X509_STORE_CTX_get_error(store)));
    return 0;
  }
  X509* leaf = X509_STORE_CTX_get0_cert(store);
  X509_up_ref(leaf);
  Certificate cert{bssl::UniquePtr<X509>(leaf)};
  std::optional<SpiffeId> id;
  if (auto parsed = cert.spiffeId()) id = std::move(*parsed);
  if (Status s = session->policy().check(id); !s) {
    session->noteHandshakeFailure("certificate verify failed: " + s.message());
    X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0;
  }
  if (id) session->notePeerId(std::move(*id));
  return 1;
}

// Server: the first of our protocols that the client offers.
int selectAlpn(SSL* ssl, const uint8_t** out, uint8_t* outLen, const uint8_t* in, unsigned inLen,
               void*) {
  TlsSession* session = TlsSession::fromSsl(ssl);
  if (session == nullptr) return SSL_TLSEXT_ERR_NOACK;
  for (auto& ours : session->settings().alpn) {
    for (unsigned i = 0; i < inLen;) {
      unsigned len = in[i];
      if (i + 1 + len > inLen) break;
      if (len == ours.size() && std::memcmp(in + i + 1, ours.data(), len) == 0) {
        *out = in + i + 1;
        *outLen = static_cast<uint8_t>(len);
        return SSL_TLSEXT_ERR_OK;
      }
      i += 1 + len;
    }
  }
  return SSL_TLSEXT_ERR_NOACK;
}

int onServerName(SSL* ssl, int* alert, void*) {
  TlsSession* session = TlsSession::fromSsl(ssl);
  if (session == nullptr || !session->settings().selectByServerName) return SSL_TLSEXT_ERR_OK;
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  auto chosen = session->settings().selectByServerName(name ? name : "");
  if (!chosen) {
    session->noteHandshakeFailure("server name refused: " + chosen.status().message());
    *alert = SSL_AD_UNRECOGNIZED_NAME;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  if (*chosen) {
    if ((*chosen)->role() != TlsRole::server) {
      *alert = SSL_AD_INTERNAL_ERROR;
      return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    bssl::UniquePtr<SSL_CTX> other = (*chosen)->currentSslCtx();
    if (SSL_set_SSL_CTX(ssl, other.get()) == nullptr) {  // takes its own reference
      *alert = SSL_AD_INTERNAL_ERROR;
      return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
  }
  return SSL_TLSEXT_ERR_OK;
}

// Client: a new session (TLS 1.2 at the handshake's end, TLS 1.3 from a NewSessionTicket).
int onNewSession(SSL* ssl, SSL_SESSION* session) {
  TlsSession* owner = TlsSession::fromSsl(ssl);
  if (owner == nullptr || owner->sessionKey().empty() || !owner->settings().sessionResumption)
    return 0;  // not taken: BoringSSL drops its reference
  owner->settings().cache.put(owner->sessionKey(), bssl::UniquePtr<SSL_SESSION>(session));
  return 1;  // we took the reference
}

}  // namespace

// ---- TlsContext ----

TlsContext::TlsContext(std::shared_ptr<Settings> settings, Material material,
                       bssl::UniquePtr<SSL_CTX> ctx)
    : settings_(std::move(settings)), material_(std::move(material)), ctx_(std::move(ctx)) {}

TlsContext::~TlsContext() = default;

Result<std::shared_ptr<TlsContext>> TlsContext::create(TlsOptions options) {
  auto settings = std::make_shared<Settings>();
  settings->role = options.role;
  settings->verifyPeer = options.verifyPeer;
  settings->peer = options.peer;
  settings->alpn = options.alpn;
  settings->tls13Only = options.tls13Only;
  settings->sessionResumption = options.sessionResumption;
  settings->clock = options.clock;
  settings->selectByServerName = std::move(options.selectByServerName);
  if (auto wire = alpnWire(options.alpn); !wire) return wire.status();
  if (!options.peer.requireSpiffeId &&
      (!options.peer.trustDomain.empty() || !options.peer.allowIds.empty()))
    return error(Code::invalid, "a peer policy naming identities must require a SPIFFE id");

  Material material{std::move(options.chain), std::move(options.key),
                    std::move(options.trustBundle)};
  auto ctx = build(*settings, material);
  if (!ctx) return ctx.status();
  return std::shared_ptr<TlsContext>(
      new TlsContext(std::move(settings), std::move(material), std::move(*ctx)));
}

Result<bssl::UniquePtr<SSL_CTX>> TlsContext::build(const Settings& settings,
                                                   const Material& material) {
  bool server = settings.role == TlsRole::server;
  if (server && (material.chain.empty() || !material.key))
    return error(Code::invalid, "a TLS server needs a certificate chain and a private key");
  if (material.chain.empty() != !material.key)
    return error(Code::invalid, "a certificate chain and a private key go together");
  if (!material.chain.empty() && !material.chain[0].matches(*material.key))
    return error(Code::invalid, "the private key does not match the leaf certificate");
  if (settings.verifyPeer && material.trustBundle.empty())
    return error(Code::invalid, "verifying peers needs a trust bundle");

  bssl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_method()));
  if (!ctx) return sslError(Code::internal, "SSL_CTX_new");
  SSL_CTX* c = ctx.get();
  if (!SSL_CTX_set_min_proto_version(c, settings.tls13Only ? TLS1_3_VERSION : TLS1_2_VERSION) ||
      !SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION) ||
      !SSL_CTX_set1_curves_list(c, "X25519:P-256") ||
      !SSL_CTX_set_strict_cipher_list(c,
                                      "ECDHE-ECDSA-AES128-GCM-SHA256:"
                                      "ECDHE-ECDSA-AES256-GCM-SHA384:"
                                      "ECDHE-RSA-AES128-GCM-SHA256:"
                                      "ECDHE-RSA-AES256-GCM-SHA384"))
    return sslError(Code::internal, "TLS parameters");

  if (!material.chain.empty()) {
    if (!SSL_CTX_use_certificate(c, material.chain[0].get()) ||
        !SSL_CTX_use_PrivateKey(c, material.key->get()))
      return sslError(Code::invalid, "certificate or key");
    for (size_t i = 1; i < material.chain.size(); ++i)
      if (!SSL_CTX_add1_chain_cert(c, material.chain[i].get()))
        return sslError(Code::invalid, "certificate chain");
    if (!SSL_CTX_check_private_key(c)) return sslError(Code::invalid, "certificate and key");
  }

  X509_STORE* store = SSL_CTX_get_cert_store(c);
  for (auto& root : material.trustBundle) {
    if (!X509_STORE_add_cert(store, root.get())) {
      uint32_t err = ERR_peek_last_error();
      if (ERR_GET_LIB(err) == ERR_LIB_X509 &&
          ERR_GET_REASON(err) == X509_R_CERT_ALREADY_IN_HASH_TABLE) {
        ERR_clear_error();  // a root listed twice
        continue;
      }
      return sslError(Code::invalid, "trust bundle");
    }
  }

  int mode = SSL_VERIFY_NONE;
  if (settings.verifyPeer)
    mode = server ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_PEER;
  SSL_CTX_set_verify(c, mode, nullptr);
  SSL_CTX_set_cert_verify_callback(c, verifyPeerChain, nullptr);

  static const uint8_t kSidCtx[] = "mesh";
  SSL_CTX_set_session_id_context(c, kSidCtx, sizeof kSidCtx - 1);
  if (server) {
    if (!settings.alpn.empty()) SSL_CTX_set_alpn_select_cb(c, selectAlpn, nullptr);
    SSL_CTX_set_tlsext_servername_callback(c, onServerName);
    // Tickets carry the session; BoringSSL makes and rotates this SSL_CTX's ticket keys.
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    if (!settings.sessionResumption) SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
  } else if (settings.sessionResumption) {
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
    SSL_CTX_sess_set_new_cb(c, onNewSession);
  } else {
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
  }
  return ctx;
}

TlsRole TlsContext::role() const { return settings_->role; }

bssl::UniquePtr<SSL_CTX> TlsContext::currentSslCtx() const {
  std::lock_guard lock(mutex_);
  SSL_CTX_up_ref(ctx_.get());
  return bssl::UniquePtr<SSL_CTX>(ctx_.get());
}

std::optional<Certificate> TlsContext::certificate() const {
  std::lock_guard lock(mutex_);
  if (material_.chain.empty()) return std::nullopt;
  return material_.chain[0];
}

uint64_t TlsContext::generation() const {
  std::lock_guard lock(mutex_);
  return generation_;
}

Status TlsContext::swap(Material material) {
  auto ctx = build(*settings_, material);  // outside the lock: handshakes go on meanwhile
  if (!ctx) return ctx.status();
  {
    std::lock_guard lock(mutex_);
    material_ = std::move(material);
    std::swap(ctx_, *ctx);
    ++generation_;
  }
  settings_->cache.clear();
  return {};  // the old SSL_CTX is released here, or by its last session
}

Status TlsContext::updateCredentials(CertificateList chain, PrivateKey key) {
  Material m;
  {
    std::lock_guard lock(mutex_);
    m.trustBundle = material_.trustBundle;
  }
  m.chain = std::move(chain);
  m.key = std::move(key);
  return swap(std::move(m));
}

Status TlsContext::updateTrustBundle(CertificateList bundle) {
  Material m;
  {
    std::lock_guard lock(mutex_);
    m.chain = material_.chain;
    m.key = material_.key;
  }
  m.trustBundle = std::move(bundle);
  return swap(std::move(m));
}

Status TlsContext::update(CertificateList chain, PrivateKey key, CertificateList bundle) {
  return swap(Material{std::move(chain), std::move(key), std::move(bundle)});
}

Result<std::unique_ptr<TlsSession>> TlsContext::newSession(const TlsSessionOptions& options) {
  bool client = settings_->role == TlsRole::client;
  bssl::UniquePtr<SSL_CTX> ctx = currentSslCtx();
  bssl::UniquePtr<SSL> ssl(SSL_new(ctx.get()));
  if (!ssl) return sslError(Code::internal, "SSL_new");
  std::string key = options.sessionKey.empty() ? options.serverName : options.sessionKey;
  PeerPolicy policy = options.peer ? *options.peer : settings_->peer;
  if (!policy.requireSpiffeId && (!policy.trustDomain.empty() || !policy.allowIds.empty()))
    return error(Code::invalid, "a peer policy naming identities must require a SPIFFE id");
  if (client) {
    SSL_set_connect_state(ssl.get());
    if (!options.serverName.empty() &&
        !SSL_set_tlsext_host_name(ssl.get(), options.serverName.c_str()))
      return sslError(Code::invalid, "server name");
    const auto& protocols = options.alpn ? *options.alpn : settings_->alpn;
    auto wire = alpnWire(protocols);
    if (!wire) return wire.status();
    if (!wire->empty() &&
        SSL_set_alpn_protos(ssl.get(), reinterpret_cast<const uint8_t*>(wire->data()),
                            wire->size()) != 0)  // 0 is success here
      return sslError(Code::internal, "ALPN");
    if (settings_->sessionResumption && !key.empty()) {
      if (auto cached = settings_->cache.take(key)) SSL_set_session(ssl.get(), cached.get());
    }
  } else {
    SSL_set_accept_state(ssl.get());
  }
  // Free the handshake configuration (certificates, keys, trust store references, ALPN
  // lists) once the handshake is done: an idle connection then holds only its keys and
  // buffers. It is set now because BoringSSL sheds at the end of the handshake.
  SSL_set_shed_handshake_config(ssl.get(), 1);
  return std::unique_ptr<TlsSession>(
      new TlsSession(settings_, std::move(ssl), std::move(policy), std::move(key)));
}

}  // namespace mesh::core
