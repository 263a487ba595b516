#include "proxy/upstream/upstream_connection.h"

#include "core/base/log.h"
#include "core/tls/tls_stream.h"

namespace mesh::proxy {

using core::http::Flow;
using core::http::ParseStatus;

UpstreamConnection::UpstreamConnection(core::Loop& loop, std::shared_ptr<const void> cluster,
                                       Host& host, CircuitBreaker::Slot slot)
    : loop_(loop),
      cluster_(std::move(cluster)),
      host_(host),
      slot_(std::move(slot)),
      parser_(std::make_unique<core::http::ResponseParser>(static_cast<core::http::ResponseHandler&>(*this))) {
  auto tcp = std::make_unique<core::TcpStream>(loop);
  tcp_ = tcp.get();
  stream_ = std::move(tcp);
  host_.activeConnections.fetch_add(1, std::memory_order_relaxed);
}

UpstreamConnection::~UpstreamConnection() {
  host_.activeConnections.fetch_sub(1, std::memory_order_relaxed);
}

void UpstreamConnection::connect(std::chrono::milliseconds timeout, ConnectDone done) {
  auto finish = std::make_shared<ConnectDone>(std::move(done));
  connectTimer_ = std::make_unique<core::Timer>(loop_);
  connectTimer_->start(timeout, [this, finish] {
    stream_->close();
    auto cb = std::move(*finish);
    if (cb) cb(*this, core::error(core::Code::timeout, "connect timeout"));
  });
  auto established = [this, finish](core::Status status) {
    connectTimer_.reset();
    if (status.ok()) {
      if (core::Status r = stream_->startReading(*this); !r.ok()) status = r;
      reading_ = status.ok();
    }
    auto cb = std::move(*finish);
    if (cb) cb(*this, status);
  };
  core::Status s = tls_ ? tls_->error : core::Status{};
  core::SocketAddress address =
      tls_ && tls_->port ? host_.address.withPort(tls_->port) : host_.address;
  if (s.ok()) {
    s = tcp_->connect(address, [this, established](core::Status status) {
      if (status.ok()) tcp_->setNoDelay(true);
      if (!status.ok() || !tls_ || !tls_->context) return established(status);
      // The session first: TlsStream then cannot fail and the TCP stream is never lost.
      auto session = tls_->context->newSession(tls_->session);
      if (!session.ok()) return established(session.status());
      auto tls = std::make_unique<core::TlsStream>(std::move(stream_), std::move(*session));
      core::TlsStream* raw = tls.get();
      stream_ = std::move(tls);
      if (core::Status h = raw->handshake(established); !h.ok()) established(h);
    });
  }
  if (!s.ok()) {
    connectTimer_.reset();
    // Report on the next turn: callers expect connect() not to call back synchronously.
    connectTimer_ = std::make_unique<core::Timer>(loop_);
    connectTimer_->start(std::chrono::milliseconds(0), [this, finish, s] {
      auto cb = std::move(*finish);
      if (cb) cb(*this, s);
    });
  }
}

void UpstreamConnection::adopt(std::unique_ptr<core::Stream> stream) {
  awaitingStream_ = false;
  tcp_ = nullptr;
  stream_ = std::move(stream);
  core::Status s = stream_->startReading(*this);
  reading_ = s.ok();
}

// The idle timer is not moved on every exchange (two timer-heap operations per request on a
// busy connection): it runs on, and when it fires early it sets itself for what is left.
void UpstreamConnection::setIdle(std::function<void()> onDead,
                                 std::chrono::milliseconds idleTimeout) {
  onIdleDead_ = std::move(onDead);
  idleSinceMs_ = loop_.now();
  idleTimeout_ = idleTimeout;
  if (!idleTimer_) idleTimer_ = std::make_unique<core::Timer>(loop_);
  if (!idleTimer_->isActive()) idleTimer_->start(idleTimeout, [this] { onIdleTimer(); });
}

void UpstreamConnection::onIdleTimer() {
  if (!onIdleDead_) return;  // busy; setIdle() sets the timer again
  auto idleFor = std::chrono::milliseconds(loop_.now() - idleSinceMs_);
  if (idleFor < idleTimeout_) {
    idleTimer_->start(idleTimeout_ - idleFor, [this] { onIdleTimer(); });
    return;
  }
  reusable_ = false;
  stream_->close();
  if (auto dead = std::move(onIdleDead_)) dead();
}

void UpstreamConnection::attach(UpstreamCallbacks& callbacks, core::http::Method method) {
  callbacks_ = &callbacks;
  onIdleDead_ = nullptr;
  responseStarted_ = false;
  complete_ = false;
  ++requests_;
  parser_->expectResponseTo(method);
}

core::Status UpstreamConnection::write(std::string data) {
  return stream_->write(std::move(data), [this](core::Status status) {
    if (status.ok() && callbacks_) callbacks_->onUpstreamWritable();
  });
}

core::Status UpstreamConnection::writeCopy(std::span<const core::ByteView> chunks) {
  return stream_->writeCopy(chunks, [this](core::Status status) {
    if (status.ok() && callbacks_) callbacks_->onUpstreamWritable();
  });
}

void UpstreamConnection::pauseReading() {
  if (reading_) stream_->stopReading();
  reading_ = false;
}

void UpstreamConnection::resumeReading() {
  if (!reading_ && stream_->isOpen() && stream_->startReading(*this).ok()) reading_ = true;
}

void UpstreamConnection::close() {
  reusable_ = false;
  stream_->close();
}

void UpstreamConnection::onData(core::ByteView data) {
  if (tunnel_) {
    if (callbacks_) callbacks_->onUpstreamTunnelData({data.data(), data.size()});
    return;
  }
  if (!callbacks_) {
    // Bytes on an idle connection: the server is confused or closing. Drop the connection.
    reusable_ = false;
    stream_->close();
    if (auto dead = std::move(onIdleDead_)) dead();
    return;
  }
  responseStarted_ = true;
  auto result = parser_->feed(data.data(), data.size());
  switch (result.status) {
    case ParseStatus::more:
    case ParseStatus::paused:
      break;
    case ParseStatus::closed:
      reusable_ = false;
      break;
    case ParseStatus::upgrade: {
      tunnel_ = true;
      reusable_ = false;
      std::string_view rest(data.data() + result.consumed, data.size() - result.consumed);
      if (!rest.empty() && callbacks_) callbacks_->onUpstreamTunnelData(rest);
      break;
    }
    case ParseStatus::error:
      reusable_ = false;
      fail(AttemptFailure::protocolError, parser_->error().reason);
      break;
  }
  // Still attached: the response goes on in a later read. (A complete response detached
  // its request; a request that took the connection from the pool since has nothing yet.)
  if (callbacks_) callbacks_->onUpstreamReadDone();
}

void UpstreamConnection::onEof() {
  reusable_ = false;
  if (tunnel_) {
    if (callbacks_) callbacks_->onUpstreamTunnelEnd();
    return;
  }
  if (!callbacks_) {
    if (auto dead = std::move(onIdleDead_)) dead();
    return;
  }
  // A body delimited by the close ends here; anything else is cut short.
  auto result = parser_->finish();
  if (complete_) return;
  if (result.status == ParseStatus::closed && complete_) return;
  if (!complete_) {
    fail(responseStarted_ || requests_ == 1 ? AttemptFailure::reset : AttemptFailure::refused,
         "upstream closed the connection before the response ended");
  }
}

void UpstreamConnection::onError(const core::Status& status) {
  reusable_ = false;
  if (tunnel_) {
    if (callbacks_) callbacks_->onUpstreamTunnelEnd();
    return;
  }
  if (!callbacks_) {
    if (auto dead = std::move(onIdleDead_)) dead();
    return;
  }
  if (!complete_) {
    fail(responseStarted_ || requests_ == 1 ? AttemptFailure::reset : AttemptFailure::refused,
         status.message());
  }
}

void UpstreamConnection::fail(AttemptFailure failure, std::string_view why) {
  reusable_ = false;
  stream_->close();
  if (auto* cb = std::exchange(callbacks_, nullptr)) cb->onUpstreamFailure(failure, why);
}

Flow UpstreamConnection::onHead(core::http::ResponseHead& head) {
  if (head.status >= 100 && head.status < 200 && head.status != 101) return Flow::proceed;
  if (!head.keepAlive) reusable_ = false;
  if (callbacks_) callbacks_->onUpstreamHead(head);
  return Flow::proceed;
}

void UpstreamConnection::onBody(std::string_view piece) {
  if (callbacks_) callbacks_->onUpstreamBody(piece);
}

Flow UpstreamConnection::onMessageComplete(const core::http::HeaderMap&) {
  int status = parser_->head().status;
  if (status >= 100 && status < 200 && status != 101) return Flow::proceed;  // interim
  if (status == 101) return Flow::proceed;  // the tunnel begins; callbacks stay attached
  complete_ = true;
  if (auto* cb = std::exchange(callbacks_, nullptr)) cb->onUpstreamComplete();
  return Flow::proceed;
}

}  // namespace mesh::proxy
