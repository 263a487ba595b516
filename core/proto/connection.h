// FramedConnection: one control-protocol connection (docs/protocol.md) over any Stream, TLS
// in production. It owns the stream and the frame decoder; it answers `ping` with `pong` by
// itself and hands every other message to its Handler.
//
// A protocol error from the peer (oversized frame, malformed JSON) is answered with one
// `error` frame, then the connection closes. Handler::onClosed runs exactly once, whatever
// the cause; the handler may destroy the connection from inside any of its callbacks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/loop/stream.h"
#include "core/proto/frame.h"

namespace mesh::core {

class FramedConnection final : private StreamSink {
 public:
  class Handler {
   public:
    virtual void onMessage(FramedConnection& connection, nlohmann::json&& message) = 0;
    // `why` is ok for an orderly close by the peer (EOF) or by us.
    virtual void onClosed(FramedConnection& connection, const Status& why) = 0;

   protected:
    ~Handler() = default;
  };

  FramedConnection(std::unique_ptr<Stream> stream, Handler& handler,
                   size_t maxFrameBytes = kDefaultMaxFrameBytes);
  ~FramedConnection();
  FramedConnection(const FramedConnection&) = delete;
  FramedConnection& operator=(const FramedConnection&) = delete;

  // Starts reading frames.
  Status start();
  Status send(const nlohmann::json& message);
  // A frame already encoded with encodeFrame*(): pilot encodes a snapshot once and sends the
  // same bytes to every proxy that shares it.
  Status sendFrame(std::string frame);
  // Sends an error frame for `why`, then closes once it is written. onClosed gets `why`.
  void fail(const Status& why);
  // Closes now; onClosed runs with ok.
  void close();

  bool isOpen() const { return !closed_; }
  Stream& stream() { return *stream_; }
  std::uint64_t framesReceived() const { return framesReceived_; }

 private:
  void onData(ByteView data) override;
  void onEof() override;
  void onError(const Status& status) override;
  void finish(const Status& why);

  // Declared first so it is destroyed last: callbacks from the stream may still look at the
  // flags below while the stream is torn down.
  Handler& handler_;
  bool closed_ = false;
  bool failing_ = false;
  std::uint64_t framesReceived_ = 0;
  // Set while this object is alive; a callback that destroyed us clears it through the
  // shared flag so the code after the call does not touch freed memory.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  FrameDecoder decoder_;
  std::unique_ptr<Stream> stream_;
};

}  // namespace mesh::core
