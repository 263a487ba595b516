#include "core/proto/channel.h"

#include "core/base/log.h"

namespace mesh::core {

Channel::Channel(Loop& loop, Connector connector, Listener& listener, Options options)
    : loop_(loop),
      connector_(std::move(connector)),
      listener_(listener),
      options_(options),
      backoff_(options.initialBackoff, options.maxBackoff),
      retryTimer_(loop),
      pingTimer_(loop) {}

Channel::~Channel() { *alive_ = false; }

void Channel::start() {
  if (started_) return;
  started_ = true;
  connect();
}

void Channel::connect() {
  connecting_ = true;
  std::weak_ptr<bool> alive = alive_;
  connector_([this, alive](Result<std::unique_ptr<Stream>> result) {
    if (auto flag = alive.lock(); flag && *flag) onConnectDone(std::move(result));
  });
}

void Channel::onConnectDone(Result<std::unique_ptr<Stream>> result) {
  connecting_ = false;
  if (!result.ok()) {
    scheduleRetry(result.status());
    return;
  }
  connection_ = std::make_unique<FramedConnection>(std::move(result).value(),
                                                   static_cast<FramedConnection::Handler&>(*this),
                                                   options_.maxFrameBytes);
  if (Status started = connection_->start(); !started.ok()) {
    deferredDelete(loop_, std::move(connection_));
    scheduleRetry(started);
    return;
  }
  ++connections_;
  backoff_.reset();
  silentTicks_ = 0;
  framesAtLastTick_ = 0;
  pingTimer_.startRepeating(options_.pingInterval, [this] { onPingTick(); });
  listener_.onConnected(*this);
}

void Channel::scheduleRetry(const Status& why) {
  pingTimer_.stop();
  auto delay = backoff_.next();
  LOG_DEBUG("channel", "disconnected (", why.toString(), "), retrying in ", delay.count(), "ms");
  retryTimer_.start(delay, [this] { connect(); });
  listener_.onDisconnected(*this, why);
}

void Channel::onPingTick() {
  if (!connected()) return;
  if (connection_->framesReceived() != framesAtLastTick_) {
    framesAtLastTick_ = connection_->framesReceived();
    silentTicks_ = 0;
  } else if (++silentTicks_ >= 3) {
    connection_->fail(error(Code::timeout, "no frame from the server in three ping intervals"));
    return;
  }
  connection_->send({{"type", "ping"}});
}

Status Channel::send(const nlohmann::json& message) {
  if (!connected()) return error(Code::unavailable, "not connected");
  return connection_->send(message);
}

void Channel::onMessage(FramedConnection&, nlohmann::json&& message) {
  if (message["type"] == "pong") return;  // its arrival already counted as a sign of life
  listener_.onMessage(*this, std::move(message));
}

void Channel::onClosed(FramedConnection&, const Status& why) {
  // We are inside the connection's callback: it dies on the next loop turn.
  deferredDelete(loop_, std::move(connection_));
  scheduleRetry(why.ok() ? error(Code::unavailable, "server closed the connection") : why);
}

}  // namespace mesh::core
