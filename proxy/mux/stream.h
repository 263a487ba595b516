// MuxStream: one stream of a mux Session (session.h), as a core::Stream: what HTTP/1.1 would
// have done on a connection of its own, it does on a stream id of a shared one.
//
// Mapping to a connection: write() sends DATA (held back, in order, while the peer's window
// for this stream is used up); shutdown() sends FIN after them; the peer's FIN is EOF; the
// peer's RESET, or the end of the shared connection before FIN, is an error. close() sends
// FIN if it was not sent, and forgets the stream: what the peer still sends for it is
// dropped, as a closed socket would drop it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/loop/stream.h"
#include "proxy/mux/frame.h"

namespace mesh::proxy::mux {

class Session;

class MuxStream final : public core::Stream {
 public:
  MuxStream(std::shared_ptr<Session> session, uint32_t id);
  ~MuxStream() override;
  MuxStream(const MuxStream&) = delete;
  MuxStream& operator=(const MuxStream&) = delete;

  core::Status startReading(core::StreamSink& sink) override;
  void stopReading() override;
  core::Status write(std::span<const core::ByteView> chunks, core::DoneCallback done) override;
  core::Status write(std::string data, core::DoneCallback done) override;
  // A stream's bytes are copied into frames at once anyway.
  core::Status writeCopy(std::span<const core::ByteView> chunks, core::DoneCallback done) override {
    return write(chunks, std::move(done));
  }
  std::size_t writeQueueSize() const override;
  core::Status shutdown(core::DoneCallback done) override;
  void close() override;
  bool isOpen() const override;

  // 0 for a client stream that has not sent yet (session.h, number()).
  uint32_t id() const { return id_; }

 private:
  friend class Session;
  // From the session. receive() returns false if the peer overran its window.
  bool receive(std::string_view piece);
  void receiveFin();
  void receiveReset();
  void receiveWindow(uint32_t increment);
  void sessionEnded(const core::Status& why);

  core::Status writable() const;
  void send(std::string_view bytes);
  void release();     // sends what the window allows from held_
  void credit(std::size_t consumed);
  // Hands buffered bytes and then EOF or an error to a reading sink. False: we were
  // destroyed inside a callback.
  bool deliver();

  std::shared_ptr<Session> session_;
  uint32_t id_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  core::StreamSink* sink_ = nullptr;
  bool reading_ = false;
  std::string inbox_;         // received, not yet delivered (reading stopped)
  bool finReceived_ = false;  // deliver EOF after inbox_
  core::Status error_;        // deliver this after inbox_ (reset, or the session ended)
  bool ended_ = false;        // EOF or an error delivered, or the session ended
  bool closed_ = false;
  bool shutdown_ = false;     // FIN asked for
  bool finSent_ = false;
  core::DoneCallback shutdownDone_;
  uint32_t sendWindow_ = kInitialWindow;   // what the peer lets us send
  uint32_t receiveWindow_ = kInitialWindow;  // what we let the peer send
  uint32_t unacknowledged_ = 0;              // consumed, not yet given back in WINDOW
  std::string held_;  // written, waiting for window
  struct HeldDone {
    std::size_t end;  // done runs once this many more of held_'s bytes have gone out
    core::DoneCallback done;
  };
  std::vector<HeldDone> heldDone_;
};

}  // namespace mesh::proxy::mux
