#include "ca/server.h"

#include <openssl/ssl.h>

#include "core/base/log.h"
#include "core/identity/ca_client.h"
#include "core/proto/connection.h"
#include "core/tls/tls_stream.h"

namespace mesh::ca {
namespace {

using core::Status;
using nlohmann::json;

// The chain a renewing client presents is judged by the Authority against the trust bundle
// current at the time of the request, with a reason it can send back; the handshake only
// has to prove that the client holds the certificate's key (CertificateVerify), which
// BoringSSL checks whatever this callback says.
int acceptAnyChain(X509_STORE_CTX*, void*) { return 1; }

// Asks for (without requiring) a client certificate on every SSL_CTX the context builds.
// Applied again after each swap, since a swap builds a fresh SSL_CTX.
void requestClientCertificate(core::TlsContext& context) {
  auto ctx = context.currentSslCtx();
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_cert_verify_callback(ctx.get(), acceptAnyChain, nullptr);
}

}  // namespace

// One client connection: the TLS handshake (with a deadline), then frames.
class CaServer::Connection final : private core::FramedConnection::Handler {
 public:
  Connection(CaServer& server, std::unique_ptr<core::TlsStream> tls, std::string peer)
      : server_(server), peer_(std::move(peer)), timer_(server.loop_), tls_(std::move(tls)) {}

  Status start() {
    timer_.start(server_.options_.handshakeTimeout,
                 [this] { refuse(Refusal::tls_handshake, "handshake timed out"); });
    return tls_->handshake([this](Status s) { onHandshake(s); });
  }

 private:
  void onHandshake(const Status& status) {
    timer_.stop();
    if (refused_) return;  // the deadline passed first; this object is already on its way out
    if (!status.ok()) return refuse(Refusal::tls_handshake, status.message());
    peerChain_ = tls_->session().peerChain();
    core::FramedConnection::Handler& handler = *this;
    framed_ = std::make_unique<core::FramedConnection>(std::move(tls_), handler,
                                                       server_.options_.maxFrameBytes);
    if (Status s = framed_->start(); !s) {
      LOG_WARN("ca", peer_, ": ", s.toString());
      server_.remove(this);
    }
  }

  // A connection that never got to speak frames: count, log, drop.
  void refuse(Refusal why, const std::string& detail) {
    if (refused_) return;
    refused_ = true;
    server_.authority_.refuse(why, detail, peer_);
    server_.remove(this);
  }

  void onMessage(core::FramedConnection& connection, json&& message) override {
    const std::string& type = message["type"].get_ref<const std::string&>();
    json answer;
    if (type == "csr") {
      answer = server_.authority_.handleCsr(message, peerChain_, peer_);
    } else {
      answer = server_.authority_.refuse(
          Refusal::unknown_message, "unknown message type '" + type.substr(0, 64) + "'", peer_);
    }
    if (Status s = connection.send(answer); !s) LOG_DEBUG("ca", peer_, ": ", s.toString());
  }

  void onClosed(core::FramedConnection&, const Status& why) override {
    if (why.code() == core::Code::too_large)
      server_.authority_.refuse(Refusal::frame_too_large, why.message(), peer_);
    else if (why.code() == core::Code::invalid)
      server_.authority_.refuse(Refusal::malformed_frame, why.message(), peer_);
    server_.remove(this);
  }

  CaServer& server_;
  std::string peer_;
  bool refused_ = false;
  core::CertificateList peerChain_;
  core::Timer timer_;
  std::unique_ptr<core::TlsStream> tls_;            // until the handshake completes
  std::unique_ptr<core::FramedConnection> framed_;  // then the stream lives here
};

CaServer::CaServer(core::Loop& loop, Authority& authority, LoadIssuer load, CaServerOptions options,
                   const core::Clock& clock)
    : loop_(loop),
      authority_(authority),
      load_(std::move(load)),
      options_(options),
      clock_(clock),
      listener_(loop),
      reloadTimer_(loop),
      renewTimer_(loop) {}

CaServer::~CaServer() { stop(); }

Status CaServer::start() {
  auto issuer = load_();
  if (!issuer) return issuer.status();
  authority_.setIssuer(std::make_shared<const IssuerMaterial>(std::move(*issuer)));
  if (Status s = issueServingCertificate(); !s) return s;
  if (Status s = listener_.listen(
          options_.listen,
          [this](std::unique_ptr<core::TcpStream> tcp) { onAccept(std::move(tcp)); });
      !s)
    return s;
  reloadTimer_.startRepeating(options_.reloadInterval, [this] { reload(); });
  LOG_INFO("ca", "serving ", authority_.trustDomain(), " on ", listener_.localAddress().toString());
  return {};
}

void CaServer::stop() {
  listener_.close();
  reloadTimer_.stop();
  renewTimer_.stop();
  for (auto& [raw, connection] : connections_) core::deferredDelete(loop_, std::move(connection));
  connections_.clear();
}

void CaServer::onAccept(std::unique_ptr<core::TcpStream> tcp) {
  std::string peer = tcp->peerAddress().toString();
  // Request/answer exchanges: a small answer must not wait for the peer's delayed ACK.
  (void)tcp->setNoDelay(true);
  auto tls = core::TlsStream::server(std::move(tcp), *tls_);
  if (!tls) {
    LOG_WARN("ca", peer, ": ", tls.status().toString());
    return;
  }
  auto connection = std::make_unique<Connection>(*this, std::move(*tls), peer);
  Connection* raw = connection.get();
  connections_.emplace(raw, std::move(connection));
  if (Status s = raw->start(); !s) {
    LOG_WARN("ca", peer, ": ", s.toString());
    remove(raw);
  }
}

void CaServer::remove(Connection* connection) {
  auto it = connections_.find(connection);
  if (it == connections_.end()) return;
  // Called from the connection's own callbacks: it dies on the next loop turn.
  core::deferredDelete(loop_, std::move(it->second));
  connections_.erase(it);
}

void CaServer::reload() {
  auto issuer = load_();
  if (!issuer) {
    if (issuer.status().message() != lastLoadError_) {
      lastLoadError_ = issuer.status().message();
      LOG_WARN("ca", "keeping the current signing material: ", lastLoadError_);
    }
    return;
  }
  lastLoadError_.clear();
  auto current = authority_.issuer();
  if (current && current->fingerprint() == issuer->fingerprint()) return;
  LOG_INFO("ca", "signing material changed: ", issuer->cert.sha256Fingerprint(), " signs, ",
           issuer->bundle.size(), " root(s) trusted");
  authority_.setIssuer(std::make_shared<const IssuerMaterial>(std::move(*issuer)));
  if (Status s = issueServingCertificate(); !s)
    LOG_ERROR("ca", "re-issuing the serving certificate: ", s.toString());
}

Status CaServer::issueServingCertificate() {
  auto issuer = authority_.issuer();
  auto key = core::PrivateKey::generateP256();
  if (!key) return key.status();
  auto id = core::SpiffeId::parse(core::caSpiffeId(authority_.trustDomain()));
  if (!id) return id.status();
  Signer signer({options_.servingCertTtl, options_.servingCertTtl}, clock_);
  auto issued = signer.issue(*issuer, key->publicKey(), *id, options_.servingCertTtl);
  if (!issued) return issued.status();
  if (!tls_) {
    core::TlsOptions tls;
    tls.role = core::TlsRole::server;
    tls.chain = issued->chain;
    tls.key = *key;
    tls.trustBundle = issued->bundle;
    tls.verifyPeer = false;
    tls.peer.requireSpiffeId = false;
    // Each renewal must show the certificate of this handshake, not of a resumed session.
    tls.sessionResumption = false;
    auto context = core::TlsContext::create(std::move(tls));
    if (!context) return context.status();
    tls_ = std::move(*context);
  } else if (Status s = tls_->update(issued->chain, *key, issued->bundle); !s) {
    return s;
  }
  requestClientCertificate(*tls_);
  scheduleServingRenewal(issued->notAfter);
  return {};
}

void CaServer::scheduleServingRenewal(core::Clock::TimePoint notAfter) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(notAfter - clock_.now());
  renewTimer_.start(std::max(left / 2, std::chrono::milliseconds(1000)), [this] {
    if (Status s = issueServingCertificate(); !s)
      LOG_ERROR("ca", "renewing the serving certificate: ", s.toString());
  });
}

std::optional<core::Certificate> CaServer::servingCertificate() const {
  return tls_ ? tls_->certificate() : std::nullopt;
}

}  // namespace mesh::ca
