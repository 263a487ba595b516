#include "core/tls/session.h"

#include <openssl/err.h>

#include <algorithm>
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

// Reasons that mean "the peer (or we) refused an identity", as opposed to a broken peer.
bool isAuthReason(const std::string& reason) {
  static const char* kWords[] = {"certificate",       "unknown ca",        "access denied",
                                 "handshake failure", "unrecognized name", "verify"};
  for (const char* w : kWords)
    if (reason.find(w) != std::string::npos) return true;
  return false;
}

}  // namespace

// The session's two BIOs. BoringSSL's memory BIOs would copy every record in and out, and
// keep the largest size they ever reached (a connection that once carried a megabyte would
// hold a megabyte); these read the caller's bytes in place and write into a string that
// takeOutput() hands over whole. Only a record cut by a read boundary is copied, and a
// drained buffer is given back, so an idle connection holds none.
struct SessionBio {
  static TlsSession& of(BIO* bio) { return *static_cast<TlsSession*>(BIO_get_data(bio)); }

  static const BIO_METHOD* method() {
    static BIO_METHOD* m = [] {
      BIO_METHOD* made = BIO_meth_new(BIO_TYPE_SOURCE_SINK, "mesh TLS session");
      BIO_meth_set_create(made, [](BIO* bio) {
        BIO_set_init(bio, 1);
        return 1;
      });
      BIO_meth_set_read(made, &SessionBio::read);
      BIO_meth_set_write(made, &SessionBio::write);
      BIO_meth_set_ctrl(made, &SessionBio::ctrl);
      return made;
    }();
    return m;
  }

  static std::size_t unread(const TlsSession& s) {
    return s.inputRest_.empty() ? s.input_.size() : s.inputRest_.size() - s.restAt_;
  }

  static int read(BIO* bio, char* out, int len) {
    BIO_clear_retry_flags(bio);
    TlsSession& s = of(bio);
    if (len <= 0) return 0;
    std::size_t n = std::min(unread(s), static_cast<std::size_t>(len));
    if (n == 0) {
      if (s.inputEnded_) return 0;
      BIO_set_retry_read(bio);  // "wait for more", not the end of the stream
      return -1;
    }
    if (s.inputRest_.empty()) {
      std::memcpy(out, s.input_.data(), n);
      s.input_.remove_prefix(n);
    } else {
      std::memcpy(out, s.inputRest_.data() + s.restAt_, n);
      s.restAt_ += n;
      if (s.restAt_ == s.inputRest_.size()) {
        std::string().swap(s.inputRest_);
        s.restAt_ = 0;
      }
    }
    return static_cast<int>(n);
  }

  static int write(BIO* bio, const char* data, int len) {
    BIO_clear_retry_flags(bio);
    if (len > 0) of(bio).output_.append(data, static_cast<std::size_t>(len));
    return len;
  }

  static long ctrl(BIO* bio, int cmd, long, void*) {
    TlsSession& s = of(bio);
    bool input = bio == s.in_;
    switch (cmd) {
      case BIO_CTRL_FLUSH:
        return 1;
      case BIO_CTRL_PENDING:
        return static_cast<long>(input ? unread(s) : s.output_.size());
      case BIO_CTRL_WPENDING:
        return 0;
      case BIO_CTRL_EOF:
        return input && s.inputEnded_ && unread(s) == 0;
      default:
        return 0;
    }
  }
};

TlsSession::TlsSession(std::shared_ptr<Settings> settings, bssl::UniquePtr<SSL> ssl,
                       PeerPolicy policy, std::string sessionKey)
    : settings_(std::move(settings)),
      ssl_(std::move(ssl)),
      policy_(std::move(policy)),
      sessionKey_(std::move(sessionKey)) {
  SSL_set_ex_data(ssl_.get(), sessionIndex(), this);
  in_ = BIO_new(SessionBio::method());
  out_ = BIO_new(SessionBio::method());
  BIO_set_data(in_, this);
  BIO_set_data(out_, this);
  SSL_set_bio(ssl_.get(), in_, out_);  // the SSL owns both BIOs
}

TlsSession::~TlsSession() {
  ssl_.reset();  // first: its BIOs point at the buffers below
}

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
    if (inputRest_.empty()) {
      input_ = ciphertext;  // read in place
    } else {
      inputRest_.append(ciphertext);  // behind what an earlier call left
    }
  }
  Status s = pump(plaintext);
  // The caller's bytes are valid during this call only: keep what was not read.
  if (!input_.empty()) {
    inputRest_.append(input_);
    input_ = {};
  }
  return s;
}

Status TlsSession::receiveEof() {
  if (state_ == State::failed) return failure_;
  if (state_ == State::handshaking) {
    // Whatever arrived before the end may hold the peer's alert: read it for the reason.
    inputEnded_ = true;
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

bool TlsSession::hasOutput() const { return !output_.empty(); }

std::string TlsSession::takeOutput() {
  std::string out;
  out.swap(output_);  // the buffer goes with the bytes: nothing copied, nothing kept
  return out;
}

std::size_t TlsSession::bufferCapacity() const {
  // Heap memory only: an empty string's inline capacity costs nothing extra.
  auto heap = [](const std::string& s) {
    return s.capacity() > std::string().capacity() ? s.capacity() : 0;
  };
  return heap(inputRest_) + heap(output_);
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
