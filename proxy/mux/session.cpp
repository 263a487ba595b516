#include "proxy/mux/session.h"

#include "core/base/log.h"
#include "proxy/mux/stream.h"

namespace mesh::proxy::mux {

namespace {
// A turn's frames for dozens of small exchanges fit in this; a buffer grown larger (a large
// body) is freed once written.
constexpr std::size_t kKeptFrameBuffer = 16 * 1024;
}  // namespace

std::shared_ptr<Session> Session::client(core::Loop& loop, std::unique_ptr<core::Stream> transport) {
  auto session = std::make_shared<Session>(loop, std::move(transport), Role::client);
  if (core::Status s = session->transport_->startReading(*session); !s.ok()) session->end(s);
  return session;
}

std::shared_ptr<Session> Session::server(core::Loop& loop, std::unique_ptr<core::Stream> transport,
                                         std::chrono::milliseconds idleTimeout, OnStream onStream) {
  auto session = std::make_shared<Session>(loop, std::move(transport), Role::server);
  session->onStream_ = std::move(onStream);
  session->idleTimeout_ = idleTimeout;
  session->idleTimer_ = std::make_unique<core::Timer>(loop);
  session->idleCheck();
  if (core::Status s = session->transport_->startReading(*session); !s.ok()) session->end(s);
  return session;
}

Session::Session(core::Loop& loop, std::unique_ptr<core::Stream> transport, Role role)
    : loop_(loop), role_(role), transport_(std::move(transport)) {}

Session::~Session() {
  loop_.unschedule(*this);
  // Streams hold the session: none is left.
  if (transport_) transport_->close();
}

std::unique_ptr<core::Stream> Session::open() {
  if (role_ != Role::client || !acceptsStreams()) return nullptr;
  if (nextId_ + 2 * unnumbered_.size() > 0x7fffffff) return nullptr;  // ids used up
  auto stream = std::make_unique<MuxStream>(shared_from_this(), 0);
  unnumbered_.insert(stream.get());
  return stream;
}

uint32_t Session::number(MuxStream& stream) {
  unnumbered_.erase(&stream);
  uint32_t id = nextId_;
  nextId_ += 2;
  streams_[id] = &stream;
  return id;
}

void Session::goAway() {
  if (closed_ || goingAway_) return;
  goingAway_ = true;
  send(FrameType::goAway, 0, lastPeerId_);
}

void Session::close() { end(core::error(core::Code::unavailable, "mux connection closed")); }

void Session::end(const core::Status& why) {
  if (closed_) return;
  closed_ = true;
  auto self = shared_from_this();  // the callbacks below may drop the owners' references
  loop_.unschedule(*this);
  if (idleTimer_) idleTimer_->stop();
  transport_->close();
  out_.clear();
  completions_.clear();
  sent_.clear();
  sentBatches_.clear();
  std::vector<uint32_t> ids;
  ids.reserve(streams_.size());
  for (const auto& [id, stream] : streams_) ids.push_back(id);
  for (uint32_t id : ids)
    if (MuxStream* stream = find(id)) stream->sessionEnded(why);
  // Streams that never sent; taken one at a time, since a callback may destroy others.
  while (!unnumbered_.empty()) {
    MuxStream* stream = *unnumbered_.begin();
    unnumbered_.erase(unnumbered_.begin());
    stream->sessionEnded(why);
  }
  if (auto onClosed = std::move(onClosed_)) onClosed();
}

MuxStream* Session::find(uint32_t stream) const {
  auto it = streams_.find(stream);
  return it == streams_.end() ? nullptr : it->second;
}

void Session::forget(MuxStream& stream) {
  if (stream.id() == 0) {
    unnumbered_.erase(&stream);
  } else {
    streams_.erase(stream.id());
  }
  if (streamCount() == 0 && !closed_) {
    scheduleFlush();  // a client session with no stream, or a server going away, closes there
    if (idleTimer_) idleCheck();
  }
}

void Session::idleCheck() {
  if (streamCount() != 0 || closed_) return;
  // A weak reference: the timer must not keep an abandoned session alive.
  idleTimer_->start(idleTimeout_, [weak = weak_from_this()] {
    auto self = weak.lock();
    if (self && self->streamCount() == 0) {
      LOG_DEBUG("mux", "closing a connection that carried no stream for ",
                self->idleTimeout_.count(), " ms");
      self->close();
    }
  });
}

void Session::send(FrameType type, uint32_t stream, uint32_t value) {
  if (closed_) return;
  appendControl(out_, type, stream, value);
  scheduleFlush();
}

void Session::sendData(uint32_t stream, std::string_view bytes) {
  if (closed_ || bytes.empty()) return;
  appendData(out_, stream, bytes);
  scheduleFlush();
}

void Session::whenWritten(uint32_t stream, core::DoneCallback done) {
  if (closed_ || !done) return;
  completions_.push_back({stream, std::move(done)});
  scheduleFlush();
}

std::size_t Session::transportBacklog() const {
  return closed_ ? 0 : transport_->writeQueueSize() + out_.size();
}

void Session::scheduleFlush() { loop_.schedule(*this); }

void Session::run() {
  if (closed_) return;
  auto self = shared_from_this();  // a completion may drop the last other reference
  if (!out_.empty()) {
    sentBatches_.push_back(completions_.size());
    for (auto& c : completions_) sent_.push_back(std::move(c));
    completions_.clear();
    // out_ keeps its capacity for the next turn (the transport copies what it cannot send at
    // once), unless a large body grew it: an idle mux connection holds no large buffer. The
    // transport belongs to this object, so its callback never outlives it.
    core::ByteView frames(out_);
    core::Status s = transport_->writeCopy(std::span<const core::ByteView>(&frames, 1),
                                           [this](core::Status status) { onTransportWritten(status); });
    if (out_.capacity() > kKeptFrameBuffer) {
      std::string().swap(out_);
    } else {
      out_.clear();
    }
    if (!s.ok()) return end(s);
  } else {
    // Only empty writes waited: nothing of theirs is left to go out.
    for (auto& c : std::exchange(completions_, {})) {
      if (closed_) return;
      if (find(c.stream)) c.done({});
    }
  }
  if (streamCount() == 0 && (role_ == Role::client || goingAway_)) close();
}

void Session::onTransportWritten(const core::Status& status) {
  if (closed_ || sentBatches_.empty()) return;
  auto self = shared_from_this();  // a completion may drop the last other reference
  std::size_t n = sentBatches_.front();
  sentBatches_.pop_front();
  for (std::size_t i = 0; i < n && !closed_; ++i) {
    Completion c = std::move(sent_.front());
    sent_.pop_front();
    if (find(c.stream)) c.done(status);
  }
}

void Session::onData(core::ByteView data) {
  auto self = shared_from_this();
  if (decoder_.feed(data, *this) == FrameDecoder::Result::error) {
    LOG_INFO("mux", "protocol error from the peer sidecar: ", decoder_.error());
    end(core::error(core::Code::invalid, "mux protocol error: " + decoder_.error()));
  }
}

void Session::onEof() { end(core::error(core::Code::unavailable, "the peer closed the mux connection")); }

void Session::onError(const core::Status& status) { end(status); }

MuxStream* Session::accept(uint32_t stream) {
  if (role_ != Role::server || stream % 2 == 0 || stream <= lastPeerId_) return nullptr;  // gone
  lastPeerId_ = stream;
  // A stream that crossed our GOAWAY on the wire is still served (the draining worker
  // answers it with "connection: close"): refusing it would fail a request that a
  // sidecar could not have known to send elsewhere.
  if (streams_.size() >= kMaxStreams) {
    send(FrameType::reset, stream, 0);
    return nullptr;
  }
  auto owned = std::make_unique<MuxStream>(shared_from_this(), stream);
  streams_[stream] = owned.get();
  if (idleTimer_) idleTimer_->stop();
  onStream_(std::move(owned));
  return find(stream);
}

bool Session::onFrameData(uint32_t stream, std::string_view piece) {
  MuxStream* s = find(stream);
  if (!s) s = accept(stream);
  if (!s) return !closed_;  // a stream we closed or refused: its bytes are dropped
  if (!s->receive(piece)) {
    LOG_INFO("mux", "the peer sidecar overran stream ", stream, "'s window");
    end(core::error(core::Code::invalid, "mux protocol error: window overrun"));
    return false;
  }
  return !closed_;
}

bool Session::onFrameControl(FrameType type, uint32_t stream, uint32_t value) {
  if (type == FrameType::goAway) {
    goingAway_ = true;  // the streams we have go on; the pool dials anew for others
    return true;
  }
  MuxStream* s = find(stream);
  if (!s && type == FrameType::fin) s = accept(stream);
  if (!s) return !closed_;
  switch (type) {
    case FrameType::fin:
      s->receiveFin();
      break;
    case FrameType::reset:
      s->receiveReset();
      break;
    case FrameType::window:
      s->receiveWindow(value);
      break;
    default:
      break;
  }
  return !closed_;
}

}  // namespace mesh::proxy::mux
