#include "proxy/gateway/tls_acceptor.h"

#include "core/base/log.h"
#include "core/loop/timer.h"
#include "core/tls/tls_stream.h"

namespace mesh::proxy {

// One connection until its handshake is done or has failed.
class GatewayTlsAcceptor::Pending final {
 public:
  Pending(GatewayTlsAcceptor& owner, const core::model::Listener& listener,
          std::shared_ptr<core::TlsContext> context, std::unique_ptr<core::TcpStream> tcp)
      : owner_(owner),
        listener_(listener),
        peer_(tcp->peerAddress()),
        context_(std::move(context)),
        tcp_(std::move(tcp)),
        timer_(owner.loop_) {}

  void start() {
    tcp_->setNoDelay(true);
    timer_.start(std::chrono::milliseconds(owner_.handshakeTimeoutMs_),
                 [this] { fail("timeout", "no handshake in time"); });
    auto tls = core::TlsStream::server(std::move(tcp_), *context_);
    if (!tls.ok()) return fail("handshake", tls.status().message());
    tls_ = std::move(*tls);
    core::Status s = tls_->handshake([this](core::Status status) { onHandshake(status); });
    if (!s.ok()) fail("handshake", s.message());
  }

  void close() {
    timer_.stop();
    if (tls_) tls_->close();
    if (tcp_) tcp_->close();
  }

 private:
  void onHandshake(const core::Status& status) {
    if (!status.ok()) return fail("handshake", status.message());
    LOG_DEBUG("gateway", peer_.toString(), " on ", listener_.name, ": TLS for \"",
              tls_->serverName(), "\"");
    auto ready = owner_.ready_;
    std::unique_ptr<core::Stream> stream = std::move(tls_);
    core::SocketAddress peer = peer_;
    core::model::Listener listener = listener_;
    done();  // this object is deleted on the next turn; nothing below touches it
    ready(std::move(stream), peer, listener);
  }

  void fail(const std::string& reason, const std::string& why) {
    LOG_INFO("gateway", peer_.toString(), " on ", listener_.name, ": TLS refused: ", why);
    owner_.failures_.series({reason}).inc();
    close();
    done();
  }

  void done() {
    timer_.stop();
    owner_.pending_.finish(*this);
  }

  GatewayTlsAcceptor& owner_;
  const core::model::Listener listener_;
  core::SocketAddress peer_;
  std::shared_ptr<core::TlsContext> context_;
  std::unique_ptr<core::TcpStream> tcp_;  // until TLS takes it
  std::unique_ptr<core::TlsStream> tls_;  // during the handshake
  core::Timer timer_;
};

GatewayTlsAcceptor::GatewayTlsAcceptor(core::Loop& loop, core::metrics::Registry& registry,
                                       uint32_t handshakeTimeoutMs, Ready ready)
    : loop_(loop),
      failures_(registry.counter("mesh_proxy_gateway_tls_failures_total",
                                 "TLS connections to gateway listeners that failed before HTTP, "
                                 "by reason",
                                 {"reason"})),
      handshakeTimeoutMs_(handshakeTimeoutMs),
      ready_(std::move(ready)),
      pending_(loop) {}

GatewayTlsAcceptor::~GatewayTlsAcceptor() = default;

void GatewayTlsAcceptor::closeAll() { pending_.closeAll(); }

void GatewayTlsAcceptor::accept(const core::model::Listener& listener,
                                std::shared_ptr<core::TlsContext> context,
                                std::unique_ptr<core::TcpStream> stream) {
  auto pending = std::make_unique<Pending>(*this, listener, std::move(context), std::move(stream));
  pending_.add(std::move(pending)).start();
}



}  // namespace mesh::proxy
