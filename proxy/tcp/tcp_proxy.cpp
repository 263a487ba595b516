#include "proxy/tcp/tcp_proxy.h"

#include "core/base/log.h"
#include "core/tls/tls_stream.h"

namespace mesh::proxy {

namespace {
constexpr size_t kHighWatermark = 1024 * 1024;
constexpr auto kPassthroughConnectTimeout = std::chrono::seconds(10);  // Istio's default
}

TcpProxySession::TcpProxySession(WorkerContext& worker, std::unique_ptr<core::TcpStream> downstream,
                                 std::string cluster, ClosedCallback onClosed)
    : worker_(worker),
      cluster_(std::move(cluster)),
      onClosed_(std::move(onClosed)),
      peer_(downstream->peerAddress()),
      downstreamTcp_(downstream.get()) {
  downstream_ = std::move(downstream);
  ++worker_.activeConnections;
  worker_.stats.tcpConnections.inc();
}

TcpProxySession::TcpProxySession(WorkerContext& worker, std::unique_ptr<core::Stream> downstream,
                                 core::SocketAddress peer, std::string cluster,
                                 ClosedCallback onClosed)
    : worker_(worker),
      cluster_(std::move(cluster)),
      onClosed_(std::move(onClosed)),
      peer_(std::move(peer)),
      downstream_(std::move(downstream)) {
  ++worker_.activeConnections;
  worker_.stats.tcpConnections.inc();
}

TcpProxySession::~TcpProxySession() {
  if (host_) host_->activeConnections.fetch_sub(1, std::memory_order_relaxed);
  --worker_.activeConnections;
}

void TcpProxySession::start() {
  if (!original_.empty()) return startPassthrough();
  ClusterTable::Entry* entry = worker_.clusters.find(cluster_);
  host_ = entry ? entry->lb->choose({}) : nullptr;
  if (!host_) {
    LOG_INFO("tcp", "no healthy upstream in cluster ", cluster_, " for ", peer_.toString());
    close();
    return;
  }
  info_ = entry->info;
  slot_ = info_->breaker().tryAcquire(CircuitBreaker::Resource::connections);
  if (!slot_) {
    LOG_INFO("tcp", "cluster ", cluster_, " at maxConnections; refusing");
    host_ = nullptr;
    close();
    return;
  }
  host_->activeConnections.fetch_add(1, std::memory_order_relaxed);
  if (worker_.options.security) tls_ = worker_.options.security->upstream(info_->config(), host_->config);
  connectTimer_ = std::make_unique<core::Timer>(worker_.loop);
  connectTimer_->start(std::chrono::milliseconds(info_->config().pool.connectTimeoutMs),
                       [this] { onConnected(core::error(core::Code::timeout, "connect timeout")); });
  if (!tls_.error.ok()) return onConnected(tls_.error);
  connect(tls_.port ? host_->address.withPort(tls_.port) : host_->address);
}

void TcpProxySession::startPassthrough() {
  connectTimer_ = std::make_unique<core::Timer>(worker_.loop);
  connectTimer_->start(kPassthroughConnectTimeout,
                       [this] { onConnected(core::error(core::Code::timeout, "connect timeout")); });
  connect(original_);
}

void TcpProxySession::connect(const core::SocketAddress& address) {
  auto tcp = std::make_unique<core::TcpStream>(worker_.loop);
  upstreamTcp_ = tcp.get();
  upstream_ = std::move(tcp);
  core::Status s = upstreamTcp_->connect(address, [this](core::Status st) { onTcpConnected(st); });
  if (!s.ok()) onConnected(s);
}

// With the cluster's TLS (ISTIO_MUTUAL: the workload certificate, Istio's SNI, the peer's
// identity checked) the session is ready once the handshake is done.
void TcpProxySession::onTcpConnected(core::Status status) {
  if (closed_) return;
  if (!status.ok() || !tls_.context) return onConnected(status);
  upstreamTcp_->setNoDelay(true);
  auto session = tls_.context->newSession(tls_.session);
  if (!session.ok()) return onConnected(session.status());
  auto tls = std::make_unique<core::TlsStream>(std::move(upstream_), std::move(*session));
  core::TlsStream* raw = tls.get();
  upstream_ = std::move(tls);
  if (core::Status h = raw->handshake([this](core::Status st) { onConnected(st); }); !h.ok()) {
    onConnected(h);
  }
}

void TcpProxySession::onConnected(core::Status status) {
  if (closed_) return;
  connectTimer_->stop();
  if (!status.ok() && !host_) {
    LOG_INFO("tcp", "passthrough to ", original_.toString(), " failed: ", status.message());
    close();
    return;
  }
  if (!status.ok()) {
    host_->connectFailures.fetch_add(1, std::memory_order_relaxed);
    if (auto* outlier = info_->outlier()) outlier->report(*host_, OutlierDetector::Result::localFailure);
    LOG_INFO("tcp", "connect to ", host_->address.toString(), " failed: ", status.message());
    close();
    return;
  }
  upstreamTcp_->setNoDelay(true);
  if (downstreamTcp_) downstreamTcp_->setNoDelay(true);
  up_ = std::make_unique<Side>(*this, *downstream_, *upstream_);
  down_ = std::make_unique<Side>(*this, *upstream_, *downstream_);
  metrics_ = worker_.metrics.tcpSeries(info_ ? std::string_view(info_->config().service) : "", {},
                                       tls_.context != nullptr);
  metrics_.opened->inc();
  up_->bytes = metrics_.received;
  down_->bytes = metrics_.sent;
  if (!upstream_->startReading(*down_).ok() || !downstream_->startReading(*up_).ok()) close();
}

void TcpProxySession::Side::onData(core::ByteView data) {
  if (bytes) bytes->inc(data.size());
  core::Status s = to_.write(std::string(data.data(), data.size()), [this](core::Status st) {
    if (!st.ok()) {
      session_.close();
      return;
    }
    resume();
  });
  if (!s.ok()) {
    session_.close();
    return;
  }
  if (to_.writeQueueSize() > kHighWatermark) {
    from_.stopReading();
    paused_ = true;
  }
}

void TcpProxySession::Side::resume() {
  if (paused_ && to_.writeQueueSize() <= kHighWatermark / 2) {
    paused_ = false;
    if (!from_.startReading(*this).ok()) session_.close();
  }
}

void TcpProxySession::Side::onEof() {
  eof = true;
  to_.shutdown([this](core::Status) { session_.maybeFinish(); });
}

void TcpProxySession::Side::onError(const core::Status&) { session_.close(); }

void TcpProxySession::maybeFinish() {
  if (up_ && down_ && up_->eof && down_->eof) close();
}

void TcpProxySession::close() {
  if (closed_) return;
  closed_ = true;
  if (metrics_.closed) metrics_.closed->inc();
  if (connectTimer_) connectTimer_->stop();
  if (upstream_) upstream_->close();
  downstream_->close();
  if (onClosed_) onClosed_(*this);
}

}  // namespace mesh::proxy
