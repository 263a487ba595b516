#include "proxy/mux/stream.h"

#include <algorithm>

#include "proxy/mux/session.h"

namespace mesh::proxy::mux {

MuxStream::MuxStream(std::shared_ptr<Session> session, uint32_t id)
    : session_(std::move(session)), id_(id) {}

MuxStream::~MuxStream() {
  *alive_ = false;
  close();
}

core::Status MuxStream::startReading(core::StreamSink& sink) {
  if (closed_) return core::error(core::Code::unavailable, "stream closed");
  sink_ = &sink;
  reading_ = true;
  deliver();
  return {};
}

void MuxStream::stopReading() { reading_ = false; }

bool MuxStream::deliver() {
  std::shared_ptr<bool> alive = alive_;
  while (reading_ && !inbox_.empty()) {
    std::string bytes = std::move(inbox_);
    inbox_.clear();
    credit(bytes.size());
    sink_->onData({bytes.data(), bytes.size()});
    if (!*alive || closed_) return *alive;
  }
  if (!reading_ || !inbox_.empty() || ended_ || closed_) return true;
  if (finReceived_) {
    ended_ = true;
    sink_->onEof();
  } else if (!error_.ok()) {
    ended_ = true;
    reading_ = false;
    sink_->onError(error_);
  }
  return *alive;
}

// The peer may send again what was consumed; told in batches, not per read.
void MuxStream::credit(std::size_t consumed) {
  unacknowledged_ += static_cast<uint32_t>(consumed);
  if (unacknowledged_ < kInitialWindow / 4 || finReceived_) return;
  session_->send(FrameType::window, id_, unacknowledged_);
  receiveWindow_ += unacknowledged_;
  unacknowledged_ = 0;
}

bool MuxStream::receive(std::string_view piece) {
  if (piece.size() > receiveWindow_) return false;
  receiveWindow_ -= static_cast<uint32_t>(piece.size());
  if (closed_ || finReceived_ || ended_) return true;  // dropped, as by a closed socket
  if (reading_ && inbox_.empty()) {
    credit(piece.size());
    sink_->onData({piece.data(), piece.size()});
    return true;
  }
  inbox_.append(piece);
  return true;
}

void MuxStream::receiveFin() {
  if (finReceived_ || ended_) return;
  finReceived_ = true;
  deliver();
}

void MuxStream::receiveReset() {
  if (ended_) return;
  error_ = core::error(core::Code::unavailable, "the peer sidecar reset the stream");
  deliver();
}

void MuxStream::sessionEnded(const core::Status& why) {
  if (ended_ || finReceived_) {
    ended_ = true;
    return;
  }
  if (error_.ok()) error_ = why;
  deliver();
  // Not delivered yet (not reading): startReading() will.
}

core::Status MuxStream::writable() const {
  if (closed_) return core::error(core::Code::unavailable, "stream closed");
  if (!session_->isOpen()) return core::error(core::Code::unavailable, "mux connection closed");
  if (shutdown_) return core::error(core::Code::invalid, "write after shutdown");
  return {};
}

void MuxStream::send(std::string_view bytes) {
  if (held_.empty()) {
    std::size_t now = std::min<std::size_t>(bytes.size(), sendWindow_);
    session_->sendData(id_, bytes.substr(0, now));
    sendWindow_ -= static_cast<uint32_t>(now);
    bytes.remove_prefix(now);
  }
  held_.append(bytes);
}

core::Status MuxStream::write(std::span<const core::ByteView> chunks, core::DoneCallback done) {
  if (core::Status s = writable(); !s.ok()) return s;
  if (id_ == 0) id_ = session_->number(*this);
  for (const auto& chunk : chunks) send({chunk.data(), chunk.size()});
  if (held_.empty()) {
    session_->whenWritten(id_, std::move(done));
  } else if (done) {
    heldDone_.push_back({held_.size(), std::move(done)});
  }
  return {};
}

core::Status MuxStream::write(std::string data, core::DoneCallback done) {
  core::ByteView chunk{data.data(), data.size()};
  return write(std::span<const core::ByteView>(&chunk, 1), std::move(done));
}

std::size_t MuxStream::writeQueueSize() const { return held_.size() + session_->transportBacklog(); }

void MuxStream::receiveWindow(uint32_t increment) {
  sendWindow_ = static_cast<uint32_t>(
      std::min<uint64_t>(uint64_t{sendWindow_} + increment, 0xffffffffu));
  release();
}

void MuxStream::release() {
  if (closed_ || !session_->isOpen()) return;
  std::size_t now = std::min<std::size_t>(held_.size(), sendWindow_);
  if (now > 0) {
    session_->sendData(id_, {held_.data(), now});
    sendWindow_ -= static_cast<uint32_t>(now);
    held_.erase(0, now);
    // The waiting writes' ends move down with the bytes that left.
    std::size_t ready = 0;
    for (auto& h : heldDone_) {
      h.end = h.end > now ? h.end - now : 0;
      if (h.end == 0) ++ready;
    }
    for (std::size_t i = 0; i < ready; ++i) session_->whenWritten(id_, std::move(heldDone_[i].done));
    heldDone_.erase(heldDone_.begin(), heldDone_.begin() + static_cast<std::ptrdiff_t>(ready));
  }
  if (held_.empty() && shutdown_ && !finSent_) {
    finSent_ = true;
    session_->send(FrameType::fin, id_);
    session_->whenWritten(id_, std::move(shutdownDone_));
  }
}

core::Status MuxStream::shutdown(core::DoneCallback done) {
  if (core::Status s = writable(); !s.ok()) return s;
  if (id_ == 0) id_ = session_->number(*this);
  shutdown_ = true;
  shutdownDone_ = std::move(done);
  release();
  return {};
}

void MuxStream::close() {
  if (closed_) return;
  closed_ = true;
  reading_ = false;
  sink_ = nullptr;
  // A stream that never sent anything has no id, and nothing to tell the peer.
  if (!finSent_ && id_ != 0 && session_->isOpen()) session_->send(FrameType::fin, id_);
  finSent_ = true;
  held_.clear();
  heldDone_.clear();
  shutdownDone_ = nullptr;
  session_->forget(*this);
}

bool MuxStream::isOpen() const { return !closed_ && error_.ok() && session_->isOpen(); }

}  // namespace mesh::proxy::mux
