#include "proxy/inbound/inbound_acceptor.h"

#include "core/base/log.h"
#include "core/loop/timer.h"
#include "core/tls/tls_stream.h"
#include "proxy/capture/original_dst.h"
#include "proxy/inbound/replay_stream.h"

namespace mesh::proxy {

using core::model::MtlsMode;

namespace {

constexpr char kTlsHandshakeRecord = 0x16;

const core::model::InboundPort* findPort(const core::model::Listener& listener, uint32_t port) {
  for (const auto& p : listener.inboundPorts)
    if (p.port == port) return &p;
  return nullptr;
}

const char* modeName(MtlsMode mode) {
  switch (mode) {
    case MtlsMode::strict:
      return "STRICT";
    case MtlsMode::permissive:
      return "PERMISSIVE";
    case MtlsMode::disable:
      return "DISABLE";
  }
  return "?";
}

}  // namespace

// One connection until it is handed over or refused.
class InboundAcceptor::Pending final : private core::StreamSink {
 public:
  Pending(InboundAcceptor& owner, const core::model::Listener& listener,
          std::unique_ptr<core::TcpStream> tcp)
      : owner_(owner),
        listener_(listener),
        peer_(tcp->peerAddress()),
        original_(capture::redirectedFrom(*tcp)),
        tcp_(std::move(tcp)),
        timer_(owner.loop_) {}

  void start() {
    tcp_->setNoDelay(true);
    timer_.start(std::chrono::milliseconds(owner_.handshakeTimeoutMs_),
                 [this] { refuse("timeout", "no handshake in time"); });
    if (core::Status s = tcp_->startReading(*this); !s.ok()) refuse("io", s.message());
  }

  void close() {
    timer_.stop();
    if (tls_) tls_->close();
    if (tcp_) tcp_->close();
  }

 private:
  void onData(core::ByteView data) override {
    if (data.empty()) return;
    tcp_->stopReading();
    std::string first(data.data(), data.size());
    if (first.front() == kTlsHandshakeRecord) {
      startTls(std::move(first));
    } else {
      plain(std::move(first));
    }
  }
  void onEof() override { done(); }
  void onError(const core::Status&) override { done(); }

  void startTls(std::string first) {
    auto context = owner_.security_ ? owner_.security_->inboundServer() : nullptr;
    if (!context)
      return refuse("no_certificate", "TLS from a peer but no workload certificate yet");
    auto replay = std::make_unique<ReplayStream>(std::move(tcp_), std::move(first));
    auto tls = core::TlsStream::server(std::move(replay), *context);
    if (!tls.ok()) return refuse("handshake", tls.status().message());
    tls_ = std::move(*tls);
    core::Status s = tls_->handshake([this](core::Status status) { onHandshake(status); });
    if (!s.ok()) refuse("handshake", s.message());
  }

  void onHandshake(const core::Status& status) {
    if (!status.ok()) return refuse("handshake", status.message());
    std::string sni = tls_->serverName();
    const core::model::InboundPort* port = nullptr;
    if (auto parsed = parseIstioSni(sni)) port = findPort(listener_, parsed->port);
    if (!port && original_) port = findPort(listener_, original_->port());
    if (!port && listener_.inboundPorts.size() == 1) port = &listener_.inboundPorts.front();
    if (!port) return refuse("unknown_port", "no workload port for server name \"" + sni + "\"");
    if (port->mtls == MtlsMode::disable)
      return refuse("tls_disabled", "port " + std::to_string(port->port) + " has mTLS DISABLE");
    auto peerId = tls_->peerId();
    InboundRoute route{port->port, port->cluster, port->protocol, {}, {}, {}};
    // Envoy's format; the app learns who called, and a client cannot forge it (the header
    // it sent is replaced).
    if (peerId) {
      route.forwardedClientCert = "By=" + owner_.security_->selfId() + ";URI=" + peerId->toString();
      route.peerPrincipal = peerId->toString().substr(std::string_view("spiffe://").size());
    }
    route.serverName = sni;
    route.multiplexed = tls_->alpn() == kMeshMuxAlpn;
    if (route.multiplexed && port->protocol != "http") {
      return refuse("protocol", "a multiplexed connection for port " + std::to_string(port->port) +
                                    ", which is " + port->protocol);
    }
    LOG_DEBUG("inbound", peer_.toString(), ": mTLS from ",
              peerId ? peerId->toString() : std::string("?"), " for port ", port->port, " alpn \"",
              tls_->alpn(), "\"");
    handOver(std::move(tls_), std::move(route));
  }

  // The port is the one the client connected to before iptables redirected it here; a
  // connection made to this listener itself can only mean its only port.
  void plain(std::string first) {
    const core::model::InboundPort* port = nullptr;
    if (original_) {
      port = findPort(listener_, original_->port());
    } else if (listener_.inboundPorts.size() == 1) {
      port = &listener_.inboundPorts.front();
    }
    MtlsMode mode = port ? port->mtls : listener_.defaultMtls;
    if (mode == MtlsMode::strict)
      return refuse("plaintext", "plain text on a port with mTLS STRICT");
    if (!port && original_) {
      return refuse("unknown_port", "plain text for " + original_->toString() +
                                        ", which is no port of the workload");
    }
    if (!port) return refuse("unknown_port", "plain text, and the listener has no single port");
    auto replay = std::make_unique<ReplayStream>(std::move(tcp_), std::move(first));
    handOver(std::move(replay), InboundRoute{port->port, port->cluster, port->protocol, {}, {}, {}});
  }

  void handOver(std::unique_ptr<core::Stream> stream, InboundRoute route) {
    timer_.stop();
    if (route.protocol != "http" && route.protocol != "tcp") {
      return refuse("protocol", "port " + std::to_string(route.port) + " is " + route.protocol +
                                    ", the inbound listener serves http and tcp ports");
    }
    auto ready = owner_.ready_;
    core::SocketAddress peer = peer_;
    done();  // this object is deleted on the next turn; nothing below touches it
    ready(std::move(stream), peer, std::move(route));
  }

  void refuse(const std::string& reason, const std::string& why) {
    LOG_INFO("inbound", peer_.toString(), " on ", listener_.name, " (",
             modeName(listener_.defaultMtls), "): refused: ", why);
    owner_.refusal(reason).inc();
    close();
    done();
  }

  void done() {
    timer_.stop();
    owner_.pending_.finish(*this);
  }

  InboundAcceptor& owner_;
  const core::model::Listener listener_;
  core::SocketAddress peer_;
  std::optional<core::SocketAddress> original_;  // set when iptables redirected it here
  std::unique_ptr<core::TcpStream> tcp_;  // until TLS or HTTP takes it
  std::unique_ptr<core::TlsStream> tls_;  // during the handshake
  core::Timer timer_;
};

InboundAcceptor::InboundAcceptor(core::Loop& loop, core::metrics::Registry& registry,
                                 std::shared_ptr<const TransportSecurity> security,
                                 uint32_t handshakeTimeoutMs, Ready ready)
    : loop_(loop),
      refusals_(registry.counter("mesh_proxy_inbound_refusals_total",
                                 "Inbound connections refused before HTTP, by reason", {"reason"})),
      security_(std::move(security)),
      handshakeTimeoutMs_(handshakeTimeoutMs),
      ready_(std::move(ready)),
      pending_(loop) {}

InboundAcceptor::~InboundAcceptor() = default;

void InboundAcceptor::closeAll() { pending_.closeAll(); }

void InboundAcceptor::accept(const core::model::Listener& listener,
                             std::unique_ptr<core::TcpStream> stream) {
  auto pending = std::make_unique<Pending>(*this, listener, std::move(stream));
  pending_.add(std::move(pending)).start();
}



core::metrics::Counter& InboundAcceptor::refusal(const std::string& reason) {
  return refusals_.series({reason});
}

}  // namespace mesh::proxy
