#include "core/proto/connection.h"

#include <vector>

#include "core/base/log.h"

namespace mesh::core {

FramedConnection::FramedConnection(std::unique_ptr<Stream> stream, Handler& handler,
                                   size_t maxFrameBytes)
    : handler_(handler), decoder_(maxFrameBytes), stream_(std::move(stream)) {}

FramedConnection::~FramedConnection() {
  *alive_ = false;
  if (stream_) stream_->close();
}

Status FramedConnection::start() { return stream_->startReading(*this); }

Status FramedConnection::send(const nlohmann::json& message) {
  return sendFrame(encodeFrame(message));
}

Status FramedConnection::sendFrame(std::string frame) {
  if (closed_ || failing_) return error(Code::unavailable, "connection is closed");
  return stream_->write(std::move(frame), nullptr);
}

void FramedConnection::fail(const Status& why) {
  if (closed_ || failing_) return;
  failing_ = true;
  stream_->stopReading();
  std::weak_ptr<bool> alive = alive_;
  Status written = stream_->write(encodeFrame(errorMessage(why)), [this, alive, why](Status) {
    if (auto flag = alive.lock(); flag && *flag) finish(why);
  });
  if (!written.ok()) finish(why);
}

void FramedConnection::close() { finish({}); }

void FramedConnection::finish(const Status& why) {
  if (closed_) return;
  closed_ = true;
  stream_->close();
  handler_.onClosed(*this, why);  // may destroy this
}

void FramedConnection::onData(ByteView data) {
  if (closed_ || failing_) return;
  // Decode first, dispatch after: a handler may destroy this connection (and its decoder),
  // so the decoder must not be running while handlers are called.
  std::vector<nlohmann::json> messages;
  Status status = decoder_.feed({data.data(), data.size()},
                                [&](nlohmann::json&& message) { messages.push_back(std::move(message)); });
  std::shared_ptr<bool> alive = alive_;
  for (auto& message : messages) {
    // Frames after one that closed or destroyed the connection are dropped.
    if (!*alive || closed_ || failing_) return;
    ++framesReceived_;
    if (message["type"] == "ping") {
      send({{"type", "pong"}});
      continue;
    }
    handler_.onMessage(*this, std::move(message));
  }
  if (!*alive || status.ok() || closed_) return;
  LOG_WARN("proto", "closing connection: ", status.toString());
  fail(status);
}

void FramedConnection::onEof() {
  if (decoder_.buffered() > 0) {
    finish(error(Code::invalid, "connection closed in the middle of a frame"));
  } else {
    finish({});
  }
}

void FramedConnection::onError(const Status& status) { finish(status); }

}  // namespace mesh::core
