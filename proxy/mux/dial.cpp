#include "proxy/mux/dial.h"

namespace mesh::proxy::mux {

Dial::Dial(core::Loop& loop, const core::SocketAddress& address, const UpstreamTlsTarget& target,
           std::chrono::milliseconds timeout, Done done)
    : options_(target.session),
      context_(target.context),
      tcp_(std::make_unique<core::TcpStream>(loop)),
      timer_(loop),
      done_(std::move(done)) {
  std::vector<std::string> alpn{std::string(kMeshMuxAlpn)};
  for (auto& id : meshAlpnProtocols()) alpn.push_back(id);
  options_.alpn = std::move(alpn);
  timer_.start(timeout, [this] { finish(core::error(core::Code::timeout, "connect timeout")); });
  core::Status s = target.error;
  if (s.ok() && !context_) s = core::error(core::Code::invalid, "no TLS context to dial with");
  if (s.ok()) {
    s = tcp_->connect(address.withPort(target.port ? target.port : address.port()),
                      [this](core::Status status) {
                        if (!status.ok()) return finish(status);
                        tcp_->setNoDelay(true);
                        auto session = context_->newSession(options_);
                        if (!session.ok()) return finish(session.status());
                        tls_ = std::make_unique<core::TlsStream>(std::move(tcp_),
                                                                 std::move(*session));
                        if (core::Status h = tls_->handshake([this](core::Status r) { finish(r); });
                            !h.ok())
                          finish(h);
                      });
  }
  // Reported on the next turn, as a failed connect would be.
  if (!s.ok()) timer_.start(std::chrono::milliseconds(0), [this, s] { finish(s); });
}

void Dial::finish(core::Status status) {
  timer_.stop();
  auto done = std::move(done_);
  if (!done) return;
  if (!status.ok()) {
    if (tls_) tls_->close();
    if (tcp_) tcp_->close();
    return done(status, nullptr);
  }
  done(status, std::move(tls_));  // may destroy this
}

}  // namespace mesh::proxy::mux
