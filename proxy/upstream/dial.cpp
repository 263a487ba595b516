#include "proxy/upstream/dial.h"

namespace mesh::proxy {

Dial::Dial(core::Loop& loop, const core::SocketAddress& address, const UpstreamTlsTarget* tls,
           std::chrono::milliseconds timeout, Done done)
    : tcp_(std::make_unique<core::TcpStream>(loop)), timer_(loop), done_(std::move(done)) {
  core::Status s = tls ? tls->error : core::Status{};
  if (tls && tls->context) tls_ = *tls;
  timer_.start(timeout, [this] { finish(core::error(core::Code::timeout, "connect timeout")); });
  if (s.ok()) {
    s = tcp_->connect(tls && tls->port ? address.withPort(tls->port) : address,
                      [this](core::Status status) { onConnected(status); });
  }
  // Reported on the next turn, as a failed connect would be.
  if (!s.ok()) timer_.start(std::chrono::milliseconds(0), [this, s] { finish(s); });
}

void Dial::onConnected(core::Status status) {
  if (!status.ok()) return finish(status);
  tcp_->setNoDelay(true);
  if (!tls_) return finish(status);
  // The session first: TlsStream then cannot fail and the TCP stream is never lost.
  auto session = tls_->context->newSession(tls_->session);
  if (!session.ok()) return finish(session.status());
  secured_ = std::make_unique<core::TlsStream>(std::move(tcp_), std::move(*session));
  if (core::Status h = secured_->handshake([this](core::Status r) { finish(r); }); !h.ok()) {
    finish(h);
  }
}

void Dial::finish(core::Status status) {
  timer_.stop();
  auto done = std::move(done_);
  if (!done) return;
  if (!status.ok()) {
    if (secured_) secured_->close();
    if (tcp_) tcp_->close();
    return done(status, nullptr, {});
  }
  if (secured_) {
    std::string alpn(secured_->alpn());
    return done(status, std::move(secured_), alpn);  // may destroy this
  }
  done(status, std::move(tcp_), {});  // may destroy this
}

}  // namespace mesh::proxy
