#include "core/tls/tls_stream.h"

#include "core/loop/tcp.h"

namespace mesh::core {

TlsStream::TlsStream(std::unique_ptr<Stream> transport, std::unique_ptr<TlsSession> session)
    : transport_(std::move(transport)), session_(std::move(session)) {}

TlsStream::~TlsStream() {
  *alive_ = false;
  // transport_ goes with us: its callbacks (into this object) never fire again.
}

Result<std::unique_ptr<TlsStream>> TlsStream::server(std::unique_ptr<Stream> transport,
                                                     TlsContext& context) {
  if (context.role() != TlsRole::server) return error(Code::invalid, "not a server TLS context");
  auto session = context.newSession();
  if (!session) return session.status();
  return std::make_unique<TlsStream>(std::move(transport), std::move(*session));
}

Result<std::unique_ptr<TlsStream>> TlsStream::client(std::unique_ptr<Stream> transport,
                                                     TlsContext& context,
                                                     const TlsSessionOptions& options) {
  if (context.role() != TlsRole::client) return error(Code::invalid, "not a client TLS context");
  auto session = context.newSession(options);
  if (!session) return session.status();
  return std::make_unique<TlsStream>(std::move(transport), std::move(*session));
}

Result<std::unique_ptr<TlsStream>> TlsStream::connect(Loop& loop, const SocketAddress& peer,
                                                      TlsContext& context,
                                                      const TlsSessionOptions& options,
                                                      DoneCallback done) {
  auto tcp = std::make_unique<TcpStream>(loop);
  TcpStream* raw = tcp.get();
  auto stream = client(std::move(tcp), context, options);
  if (!stream) return stream.status();
  TlsStream* self = stream->get();
  // The TcpStream belongs to `self`: its connect callback cannot outlive it.
  Status st = raw->connect(peer, [self, done = std::move(done)](Status connected) {
    if (!connected) {
      if (done) done(connected);
      return;
    }
    Status started = self->handshake(done);
    if (!started && done) done(started);
  });
  if (!st) return st;
  return stream;
}

Status TlsStream::handshake(DoneCallback done) {
  if (handshakeStarted_) return error(Code::invalid, "TLS handshake already started");
  if (!isOpen()) return error(Code::unavailable, "transport is closed");
  if (Status s = transport_->startReading(*this); !s) return s;
  handshakeStarted_ = true;
  transportReading_ = true;
  if (Status s = session_->start(); !s) {
    transport_->stopReading();
    transportReading_ = false;
    return s;
  }
  if (Status s = flushOutput(); !s) return s;
  handshakeDone_ = std::move(done);
  return {};
}

Status TlsStream::flushOutput(DoneCallback done) {
  if (!transport_ || !transport_->isOpen()) return error(Code::unavailable, "transport is closed");
  if (!session_->hasOutput() && !done) return {};
  return transport_->write(session_->takeOutput(), std::move(done));
}

// ---- reading ----

void TlsStream::onData(ByteView data) {
  std::string plaintext;
  Status s = session_->receive(std::string_view(data.data(), data.size()), plaintext);
  afterReceive(s, plaintext);
}

void TlsStream::onEof() {
  transportReading_ = false;
  Status s = session_->receiveEof();
  std::string none;
  afterReceive(s, none);
}

void TlsStream::onError(const Status& status) {
  transportReading_ = false;
  if (!handshakeReported_) {
    reportHandshake(status);
    return;
  }
  failRead(status);
  deliver();
}

bool TlsStream::afterReceive(const Status& status, std::string& plaintext) {
  (void)flushOutput();  // handshake messages, tickets, alerts; a closed transport shows below
  if (!status.ok()) {
    if (transportReading_) {
      transport_->stopReading();
      transportReading_ = false;
    }
    if (!handshakeReported_) return reportHandshake(status);
    failRead(status);
    return deliver();
  }
  if (!handshakeReported_ && session_->handshakeDone()) {
    // Queued writes go out now, in order, each completing with its own ciphertext write.
    std::vector<PendingWrite> writes;
    writes.swap(pendingWrites_);
    pendingBytes_ = 0;
    std::vector<std::pair<DoneCallback, Status>> failed;
    for (auto& w : writes) {
      Status s = session_->send(w.plaintext);
      if (s) s = flushOutput(w.done);
      if (!s && w.done) failed.emplace_back(std::move(w.done), s);
    }
    if (shutDown_) {
      session_->close();
      Status s = flushOutput();
      DoneCallback cb = std::move(shutdownDone_);
      if (s) s = transport_->shutdown(cb);
      if (!s && cb) failed.emplace_back(std::move(cb), s);
    }
    if (!reportHandshake(Status{})) return false;
    auto alive = alive_;
    for (auto& [cb, s] : failed) {
      cb(s);
      if (!*alive) return false;
    }
  }
  if (inbox_.empty()) {
    inbox_.swap(plaintext);  // the common case: nothing waits, so no copy
  } else {
    inbox_ += plaintext;
  }
  if (session_->state() == TlsSession::State::closed) eofPending_ = true;
  if (session_->state() == TlsSession::State::failed && errorPending_.ok())
    failRead(session_->failure());
  return deliver();
}

bool TlsStream::reportHandshake(const Status& status) {
  handshakeReported_ = true;
  DoneCallback cb = std::move(handshakeDone_);
  std::vector<PendingWrite> writes;
  DoneCallback shutdownCb;
  if (!status.ok()) {
    writes.swap(pendingWrites_);
    pendingBytes_ = 0;
    shutdownCb = std::move(shutdownDone_);
    if (transportReading_) {
      transport_->stopReading();
      transportReading_ = false;
    }
    failRead(status);
  }
  auto alive = alive_;
  if (cb) {
    cb(status);
    if (!*alive) return false;
  }
  for (auto& w : writes) {
    if (w.done) {
      w.done(status);
      if (!*alive) return false;
    }
  }
  if (shutdownCb) {
    shutdownCb(status);
    if (!*alive) return false;
  }
  return true;
}

void TlsStream::failRead(const Status& status) {
  if (errorPending_.ok() && !finished_) errorPending_ = status;
}

bool TlsStream::deliver() {
  auto alive = alive_;
  while (sink_ != nullptr && !finished_) {
    if (!inbox_.empty()) {
      std::string data;
      data.swap(inbox_);
      sink_->onData(ByteView(data.data(), data.size()));
      if (!*alive) return false;
      continue;
    }
    if (!errorPending_.ok() || eofPending_) {
      finished_ = true;
      StreamSink* sink = sink_;
      sink_ = nullptr;
      if (!errorPending_.ok())
        sink->onError(errorPending_);
      else
        sink->onEof();
      return *alive;
    }
    break;
  }
  // Back-pressure: nobody reads and the buffer is full.
  if (sink_ == nullptr && transportReading_ && inbox_.size() >= kMaxBufferedPlaintext &&
      session_->handshakeDone()) {
    transport_->stopReading();
    transportReading_ = false;
  }
  return true;
}

Status TlsStream::startReading(StreamSink& sink) {
  if (!isOpen()) return error(Code::unavailable, "stream is closed");
  if (finished_) return error(Code::unavailable, "stream has ended");
  sink_ = &sink;
  if (handshakeStarted_ && !transportReading_ && errorPending_.ok() && !eofPending_ &&
      session_->state() == TlsSession::State::established) {
    if (Status s = transport_->startReading(*this); !s) return s;
    transportReading_ = true;
  }
  // Plaintext (or an end) that arrived while nobody read is delivered now, from inside this
  // call.
  deliver();
  return {};
}

void TlsStream::stopReading() { sink_ = nullptr; }

// ---- writing ----

Status TlsStream::write(std::span<const ByteView> chunks, DoneCallback done) {
  std::string data;
  std::size_t total = 0;
  for (auto& c : chunks) total += c.size();
  data.reserve(total);
  for (auto& c : chunks) data.append(c.data(), c.size());
  return write(std::move(data), std::move(done));  // encrypted (copied) at once
}

Status TlsStream::write(std::string data, DoneCallback done) {
  if (!isOpen()) return error(Code::unavailable, "stream is closed");
  if (shutDown_) return error(Code::unavailable, "stream is shut down");
  if (session_->state() == TlsSession::State::failed) return session_->failure();
  if (!session_->handshakeDone()) {
    pendingBytes_ += data.size();
    pendingWrites_.push_back({std::move(data), std::move(done)});
    return {};
  }
  if (Status s = session_->send(data); !s) return s;
  return flushOutput(std::move(done));
}

// Once the handshake is done one buffer is encrypted at once, with no copy of the plaintext.
// Several are joined first (one record rather than one each), and before the handshake they
// wait like any write.
Status TlsStream::writeCopy(std::span<const ByteView> chunks, DoneCallback done) {
  if (chunks.size() != 1 || !isOpen() || shutDown_ || !session_->handshakeDone() ||
      session_->state() == TlsSession::State::failed) {
    return Stream::writeCopy(chunks, std::move(done));
  }
  if (Status s = session_->send({chunks[0].data(), chunks[0].size()}); !s) return s;
  return flushOutput(std::move(done));
}

std::size_t TlsStream::writeQueueSize() const {
  return pendingBytes_ + (transport_ ? transport_->writeQueueSize() : 0);
}

Status TlsStream::shutdown(DoneCallback done) {
  if (!isOpen()) return error(Code::unavailable, "stream is closed");
  if (shutDown_) return error(Code::invalid, "stream is already shut down");
  if (session_->state() == TlsSession::State::failed) return session_->failure();
  shutDown_ = true;
  if (!session_->handshakeDone()) {  // done when the handshake completes (afterReceive)
    shutdownDone_ = std::move(done);
    return {};
  }
  session_->close();
  if (Status s = flushOutput(); !s) return s;
  return transport_->shutdown(std::move(done));
}

void TlsStream::close() {
  if (!transport_) return;
  if (transport_->isOpen() && session_->handshakeDone() && !shutDown_) {
    session_->close();  // best effort: a close_notify the kernel may still send
    (void)flushOutput();
  }
  transport_->close();
  sink_ = nullptr;
  handshakeDone_ = nullptr;
  shutdownDone_ = nullptr;
  pendingWrites_.clear();
  pendingBytes_ = 0;
  transportReading_ = false;
}

}  // namespace mesh::core
