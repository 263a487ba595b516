#include "core/tls/session.h"

#include <openssl/buf.h>
#include <openssl/err.h>

#include <cstring>

#include "core/tls/internal.h"
#include "core/tls/settings.h"

namespace mesh::core {

using namespace tls_internal;

namespace {

int sessionIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

constexpr size_t kReadChunk = 16 * 1024;

// BoringSSL's memory BIO keeps the largest size it ever reached (BIO_reset even clears all of
// it, byte by byte): a connection that once carried a megabyte would hold a megabyte for
// good, thousands of times over on a server. A drained buffer goes back to the allocator
// instead, so an idle connection holds none; the next record allocates anew, which costs
// little next to encrypting it.
void emptyBuffer(BIO* bio) {
  BUF_MEM* mem = nullptr;
  BIO_get_mem_ptr(bio, &mem);
  if (mem != nullptr && mem->max > 0) {
    if (BUF_MEM* fresh = BUF_MEM_new()) {
      BIO_set_mem_buf(bio, fresh, BIO_CLOSE);  // frees the old one
      return;
    }
  }
  if (mem == nullptr || mem->length > 0) BIO_reset(bio);
}

// Reasons that mean "the peer (or we) refused an identity", as opposed to a broken peer.
bool isAuthReason(const std::string& reason) {
  static const char* kWords[] = {"certificate",       "unknown ca",        "access denied",
                                 "handshake failure", "unrecognized name", "verify"};
  for (const char* w : kWords)
    if (reason.find(w) != std::string::npos) return true;
  return false;
}

}  // namespace

TlsSession::TlsSession(std::shared_ptr<Settings> settings, bssl::UniquePtr<SSL> ssl,
                       PeerPolicy policy, std::string sessionKey)
    : settings_(std::move(settings)),
      ssl_(std::move(ssl)),
      policy_(std::move(policy)),
      sessionKey_(std::move(sessionKey)) {
  SSL_set_ex_data(ssl_.get(), sessionIndex(), this);
  in_ = BIO_new(BIO_s_mem());
  out_ = BIO_new(BIO_s_mem());
  // An empty input BIO means "wait for more", not end of stream (receiveEof() changes that).
  BIO_set_mem_eof_return(in_, -1);
  SSL_set_bio(ssl_.get(), in_, out_);  // the SSL owns both BIOs
}

TlsSession::~TlsSession() = default;

TlsSession* TlsSession::fromSsl(const SSL* ssl) {
  if (ssl == nullptr) return nullptr;
  return static_cast<TlsSession*>(SSL_get_ex_data(ssl, sessionIndex()));
}

TlsRole TlsSession::role() const { return settings_->role; }

Status TlsSession::start() {
  if (state_ == State::failed) return failure_;
  if (settings_->role == TlsRole::server) return {};
  std::string none;
  return pump(none);
}

Status TlsSession::receive(std::string_view ciphertext, std::string& plaintext) {
  if (state_ == State::failed) return failure_;
  if (!ciphertext.empty()) {
    if (BIO_write(in_, ciphertext.data(), static_cast<int>(ciphertext.size())) !=
        static_cast<int>(ciphertext.size()))
      return failWith(sslError(Code::internal, "TLS input buffer"));
  }
  Status s = pump(plaintext);
  if (BIO_pending(in_) == 0) emptyBuffer(in_);
  return s;
}

Status TlsSession::receiveEof() {
  if (state_ == State::failed) return failure_;
  if (state_ == State::handshaking) {
    // Whatever arrived before the end may hold the peer's alert: read it for the reason.
    BIO_set_mem_eof_return(in_, 0);
    std::string none;
    Status s = pump(none);
    if (!s) return s;
    if (state_ == State::handshaking)
      return failWith(error(Code::unavailable, "connection closed during the TLS handshake"));
    return {};
  }
  state_ = State::closed;
  return {};
}

Status TlsSession::send(std::string_view plaintext) {
  if (state_ == State::failed) return failure_;
  // After the peer's close_notify (or the transport's EOF) we may still send: half-close.
  if (closing_) return error(Code::unavailable, "TLS session is closed");
  if (state_ == State::handshaking) {
    pending_.append(plaintext);
    return {};
  }
  if (plaintext.empty()) return {};
  // Without SSL_MODE_ENABLE_PARTIAL_WRITE, SSL_write writes all of it or fails; the memory
  // BIO never pushes back.
  int ret = SSL_write(ssl_.get(), plaintext.data(), static_cast<int>(plaintext.size()));
  if (ret <= 0) return fail(ret);
  return {};
}

void TlsSession::close() {
  if (closing_ || state_ == State::failed) return;
  closing_ = true;
  if (state_ == State::established || state_ == State::closed) {
    if (!pending_.empty()) (void)flushPending();
    SSL_shutdown(ssl_.get());  // writes close_notify; we do not wait for the peer's
    ERR_clear_error();
  }
}

bool TlsSession::hasOutput() const { return BIO_pending(out_) > 0; }

std::string TlsSession::takeOutput() {
  std::string out = bioContents(out_);
  emptyBuffer(out_);
  return out;
}

std::size_t TlsSession::bufferCapacity() const {
  std::size_t total = 0;
  for (BIO* bio : {in_, out_}) {
    BUF_MEM* mem = nullptr;
    BIO_get_mem_ptr(bio, &mem);
    if (mem != nullptr) total += mem->max;
  }
  return total;
}

Status TlsSession::flushPending() {
  std::string data;
  data.swap(pending_);
  if (data.empty()) return {};
  int ret = SSL_write(ssl_.get(), data.data(), static_cast<int>(data.size()));
  if (ret <= 0) return fail(ret);
  return {};
}

Status TlsSession::pump(std::string& plaintext) {
  if (state_ == State::handshaking) {
    int ret = SSL_do_handshake(ssl_.get());
    if (ret != 1) {
      int err = SSL_get_error(ssl_.get(), ret);
      if (err == SSL_ERROR_WANT_READ) return {};
      return fail(ret);
    }
    // A resumed session skipped certificate verification: the policy (which may differ per
    // session) is checked here from the certificate the session recorded.
    if (settings_->verifyPeer) {
      std::optional<SpiffeId> id;
      if (auto cert = peerCertificate()) {
        if (auto parsed = cert->spiffeId()) id = std::move(*parsed);
      } else {
        return failWith(error(Code::denied, "peer presented no certificate"));
      }
      if (Status s = policy_.check(id); !s) {
        SSL_send_fatal_alert(ssl_.get(), SSL_AD_ACCESS_DENIED);
        return failWith(s);
      }
      peerId_ = std::move(id);
    } else if (auto cert = peerCertificate()) {
      // Unverified: reported for logging only, never trusted by policy.
      if (auto parsed = cert->spiffeId()) peerId_ = std::move(*parsed);
    }
    state_ = State::established;
    if (settings_->role == TlsRole::server) {
      // BoringSSL holds TLS 1.3 session tickets back until the server's first write; a
      // zero-byte write sends them now, so a client that only talks first still gets them.
      SSL_write(ssl_.get(), "", 0);
      ERR_clear_error();
    }
    if (Status s = flushPending(); !s) return s;
    if (closing_) {
      SSL_shutdown(ssl_.get());
      ERR_clear_error();
    }
  }
  if (state_ != State::established) return {};
  char buf[kReadChunk];
  for (;;) {
    int ret = SSL_read(ssl_.get(), buf, sizeof buf);
    if (ret > 0) {
      plaintext.append(buf, static_cast<size_t>(ret));
      continue;
    }
    int err = SSL_get_error(ssl_.get(), ret);
    if (err == SSL_ERROR_WANT_READ) return {};
    if (err == SSL_ERROR_ZERO_RETURN) {
      peerCloseNotify_ = true;
      state_ = State::closed;
      return {};
    }
    if (err == SSL_ERROR_SYSCALL && BIO_eof(in_)) {  // the transport ended: see receiveEof()
      state_ = State::closed;
      ERR_clear_error();
      return {};
    }
    return fail(ret);
  }
}

Status TlsSession::fail(int ret) {
  int err = SSL_get_error(ssl_.get(), ret);
  if (!ownFailure_.empty()) {
    ERR_clear_error();
    return failWith(error(Code::denied, ownFailure_));
  }
  if (err == SSL_ERROR_SSL) {
    std::string reason = drainErrors("TLS error");
    return failWith(error(isAuthReason(reason) ? Code::denied : Code::invalid, reason));
  }
  ERR_clear_error();
  if (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN)
    return failWith(error(Code::unavailable, state_ == State::handshaking
                                                 ? "connection closed during the TLS handshake"
                                                 : "connection closed"));
  return failWith(error(Code::internal, "TLS error " + std::to_string(err)));
}

Status TlsSession::failWith(Status status) {
  if (failure_.ok()) failure_ = std::move(status);
  state_ = State::failed;
  pending_.clear();
  return failure_;
}

std::optional<Certificate> TlsSession::peerCertificate() const {
  X509* cert = SSL_get_peer_certificate(ssl_.get());  // one reference, or null
  if (cert == nullptr) return std::nullopt;
  return Certificate(bssl::UniquePtr<X509>(cert));
}

CertificateList TlsSession::peerChain() const {
  CertificateList out;
  STACK_OF(X509)* chain = SSL_get_peer_full_cert_chain(ssl_.get());
  if (chain == nullptr) return out;
  for (size_t i = 0; i < sk_X509_num(chain); ++i) {
    X509* c = sk_X509_value(chain, i);
    X509_up_ref(c);
    out.emplace_back(bssl::UniquePtr<X509>(c));
  }
  return out;
}

std::string TlsSession::alpn() const {
  const uint8_t* data = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(ssl_.get(), &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

std::string TlsSession::serverName() const {
  const char* name = SSL_get_servername(ssl_.get(), TLSEXT_NAMETYPE_host_name);
  return name ? name : "";
}

std::string TlsSession::version() const { return SSL_get_version(ssl_.get()); }

std::string TlsSession::cipher() const {
  const SSL_CIPHER* c = SSL_get_current_cipher(ssl_.get());
  return c ? SSL_CIPHER_standard_name(c) : "";
}

std::string TlsSession::group() const {
  const char* name = SSL_get_curve_name(SSL_get_curve_id(ssl_.get()));
  return name ? name : "";
}

bool TlsSession::resumed() const { return SSL_session_reused(ssl_.get()) == 1; }

}  // namespace mesh::core
