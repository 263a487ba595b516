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
  host_.activeConnections.fetch_add(1, std::memory_order_relaxed);
}

UpstreamConnection::~UpstreamConnection() {
  host_.activeConnections.fetch_sub(1, std::memory_order_relaxed);
}

void UpstreamConnection::connect(std::chrono::milliseconds timeout, ConnectDone done) {
  dial_ = std::make_unique<Dial>(
      loop_, host_.address, tls_.get(), timeout,
      [this, done = std::move(done)](core::Status status, std::unique_ptr<core::Stream> stream,
                                     std::string_view) {
        auto finished = std::move(dial_);  // we are inside its callback: it goes last
        if (status.ok()) {
          stream_ = std::move(stream);
          status = stream_->startReading(*this);
          reading_ = status.ok();
        }
        core::deferredDelete(loop_, std::move(finished));
        done(*this, status);  // may destroy this
      });
}

void UpstreamConnection::adopt(std::unique_ptr<core::Stream> stream) {
  awaitingStream_ = false;
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
  close();
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
  if (!stream_) return core::error(core::Code::unavailable, "upstream not connected");
  return stream_->write(std::move(data), [this](core::Status status) { onWritten(status); });
}

core::Status UpstreamConnection::writeCopy(std::span<const core::ByteView> chunks) {
  if (!stream_) return core::error(core::Code::unavailable, "upstream not connected");
  return stream_->writeCopy(chunks, [this](core::Status status) { onWritten(status); });
}

void UpstreamConnection::onWritten(const core::Status& status) {
  if (status.ok() && callbacks_) callbacks_->onUpstreamWritable();
}

void UpstreamConnection::pauseReading() {
  if (reading_) stream_->stopReading();
  reading_ = false;
}

void UpstreamConnection::resumeReading() {
  if (!reading_ && isOpen() && stream_->startReading(*this).ok()) reading_ = true;
}

void UpstreamConnection::close() {
  reusable_ = false;
  dial_.reset();
  if (stream_) stream_->close();
}

void UpstreamConnection::onData(core::ByteView data) {
  if (tunnel_) {
    if (callbacks_) callbacks_->onUpstreamTunnelData({data.data(), data.size()});
    return;
  }
  if (!callbacks_) {
    // Bytes on an idle connection: the server is confused or closing. Drop the connection.
    close();
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
  close();
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
