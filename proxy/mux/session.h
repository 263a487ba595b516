// Session: one mTLS connection between two sidecars that carries many streams (frame.h). The
// calling sidecar's connection pool opens streams on it (open()), one per HTTP/1.1
// connection it would otherwise have dialled; the called sidecar gets each new stream from
// `onStream` and serves it like an accepted connection. Each stream is a core::Stream
// (stream.h), so the HTTP layers above do not know they share a connection.
//
// What the streams write in one loop turn is framed into one buffer and written once, on the
// next turn: a busy sidecar sends one TLS record run, and makes one write, for many requests.
//
// Lifetime: shared by its owner (the pool, or the worker that accepted it) and by every
// stream, so it outlives all of them. The transport closes when the peer closes it, on a
// protocol error, on close(), when a client session has no stream left, and when a server
// session that was told to go away, or sat without a stream for `idleTimeout`, has none.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/loop/loop.h"
#include "core/loop/stream.h"
#include "core/loop/timer.h"
#include "proxy/mux/frame.h"

namespace mesh::proxy::mux {

class MuxStream;

class Session final : public std::enable_shared_from_this<Session>,
                      private core::StreamSink,
                      private core::Loop::Task,
                      private FrameDecoder::Handler {
 public:
  enum class Role { client, server };
  using OnStream = std::function<void(std::unique_ptr<core::Stream> stream)>;

  // `transport`: connected, and past its handshake. Starts reading it.
  static std::shared_ptr<Session> client(core::Loop& loop, std::unique_ptr<core::Stream> transport);
  static std::shared_ptr<Session> server(core::Loop& loop, std::unique_ptr<core::Stream> transport,
                                         std::chrono::milliseconds idleTimeout, OnStream onStream);
  Session(core::Loop& loop, std::unique_ptr<core::Stream> transport, Role role);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Client: a new stream, or null when this connection takes no more (closed, draining after a
  // GOAWAY from the peer, or at kMaxStreams): the caller dials another.
  std::unique_ptr<core::Stream> open();
  bool acceptsStreams() const { return !closed_ && !goingAway_ && streamCount() < kMaxStreams; }
  // Server: tells the peer to open no more streams here, and closes once the last one ends.
  // Streams the peer opened before it heard are still served.
  void goAway();
  // Ends the transport now; every stream that has not ended sees an error.
  void close();
  bool isOpen() const { return !closed_; }
  std::size_t streamCount() const { return streams_.size() + unnumbered_.size(); }
  // Runs once, when the transport closes.
  void setOnClosed(std::function<void()> onClosed) { onClosed_ = std::move(onClosed); }

 private:
  friend class MuxStream;

  // For streams.
  void send(FrameType type, uint32_t stream, uint32_t value = 0);
  void sendData(uint32_t stream, std::string_view bytes);
  // `done` runs once the frames queued so far are written (if the stream is still there).
  void whenWritten(uint32_t stream, core::DoneCallback done);
  std::size_t transportBacklog() const;
  // A client stream's id, given when it first sends: ids then reach the peer in the order
  // they grow, whichever stream was opened first.
  uint32_t number(MuxStream& stream);
  void forget(MuxStream& stream);

  // StreamSink (the transport).
  void onData(core::ByteView data) override;
  void onEof() override;
  void onError(const core::Status& status) override;
  // FrameDecoder::Handler.
  bool onFrameData(uint32_t stream, std::string_view piece) override;
  bool onFrameControl(FrameType type, uint32_t stream, uint32_t value) override;
  // Loop::Task: the turn's frames go out.
  void run() override;
  // The transport wrote the oldest batch of frames still pending.
  void onTransportWritten(const core::Status& status);

  MuxStream* find(uint32_t stream) const;
  // Server: the stream a peer's frame for an id never seen opens; null if refused.
  MuxStream* accept(uint32_t stream);
  void end(const core::Status& why);
  void scheduleFlush();
  void idleCheck();

  core::Loop& loop_;
  Role role_;
  std::unique_ptr<core::Stream> transport_;
  OnStream onStream_;
  std::function<void()> onClosed_;
  FrameDecoder decoder_;
  std::unordered_map<uint32_t, MuxStream*> streams_;
  std::unordered_set<MuxStream*> unnumbered_;  // client streams that have sent nothing yet
  uint32_t nextId_ = 1;      // client: the next stream id
  uint32_t lastPeerId_ = 0;  // server: the highest id the peer opened
  bool goingAway_ = false;
  bool closed_ = false;
  std::string out_;  // frames of this turn
  struct Completion {
    uint32_t stream;
    core::DoneCallback done;
  };
  std::vector<Completion> completions_;  // for the writes in out_
  // Completions of frames the transport has taken, oldest first, and how many each
  // transport write carries (transport writes complete in order).
  std::deque<Completion> sent_;
  std::deque<std::size_t> sentBatches_;
  std::chrono::milliseconds idleTimeout_{0};
  std::unique_ptr<core::Timer> idleTimer_;  // server: closes a session left without streams
};

}  // namespace mesh::proxy::mux
