// UvStream<H>: the Stream implementation shared by libuv's stream handles (uv_tcp_t for
// TcpStream, uv_pipe_t for PipeStream). It owns the handle (see handle.h); the derived class
// initialises it in its constructor and adds what is specific (connect, socket options).
#pragma once

#include <uv.h>

#include <memory>
#include <vector>

#include "core/loop/handle.h"
#include "core/loop/loop.h"
#include "core/loop/stream.h"

namespace mesh::core {

template <typename H>
class UvStream : public Stream {
 public:
  ~UvStream() override {  // handle_ closes; pending callbacks are dropped
    if (destroyed_) *destroyed_ = true;
    loop_.unschedule(completion_);
  }
  UvStream(const UvStream&) = delete;
  UvStream& operator=(const UvStream&) = delete;

  Status startReading(StreamSink& sink) override;
  void stopReading() override;
  Status write(std::span<const ByteView> chunks, DoneCallback done) override;
  Status write(std::string data, DoneCallback done) override;
  Status writeCopy(std::span<const ByteView> chunks, DoneCallback done) override;
  std::size_t writeQueueSize() const override;
  Status shutdown(DoneCallback done) override;
  void close() override;
  bool isOpen() const override { return static_cast<bool>(handle_); }

  Loop& loop() const { return loop_; }
  // For what this class does not wrap (uv_fileno for socket options). Null once closed.
  uv_stream_t* raw() const { return reinterpret_cast<uv_stream_t*>(handle_.get()); }

 protected:
  // Allocates the handle; the derived constructor initialises it (uv_tcp_init, ...).
  explicit UvStream(Loop& loop) : loop_(loop) { handle_.allocate(this); }
  // The object behind a handle's data, or null once it is destroyed.
  static UvStream* from(const void* handle) {
    return static_cast<UvStream*>(static_cast<const uv_handle_t*>(handle)->data);
  }

  Loop& loop_;
  HandleOwner<H> handle_;

 private:
  struct WriteRequest;
  static void onAlloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf);
  static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void onWritten(uv_write_t* req, int status);
  Status submit(std::unique_ptr<WriteRequest> request, std::span<const ByteView> chunks);
  // write() and writeCopy(): what the socket does not take at once is borrowed, or copied.
  Status writeChunks(std::span<const ByteView> chunks, DoneCallback done, bool copyRest);
  // Writes what the socket takes now, when nothing is queued before it (uv_try_write: no
  // request, no completion pass through the poller). Returns the bytes written, or a libuv
  // error other than EAGAIN.
  int writeNow(std::span<const ByteView> chunks);
  // `done` for a write that completed inside write(): run on the next loop turn, unless the
  // stream is closed or destroyed first.
  void completeLater(DoneCallback done);
  void runCompleted();

  struct Completion final : Loop::Task {
    explicit Completion(UvStream& s) : stream(s) {}
    void run() override { stream.runCompleted(); }
    UvStream& stream;
  };

  StreamSink* sink_ = nullptr;
  // Completions of writes that finished inside write(), run together on the next turn; the
  // vectors keep their capacity, so a busy stream does not allocate for them.
  std::vector<DoneCallback> completed_;
  std::vector<DoneCallback> spare_;
  Completion completion_{*this};
  bool* destroyed_ = nullptr;  // set while runCompleted() calls out
};

extern template class UvStream<uv_tcp_t>;
extern template class UvStream<uv_pipe_t>;

// A libuv request with the completion its caller asked for. Freed in its callback, which
// libuv always runs (with UV_ECANCELED when the handle is closed first).
template <typename R>
struct Request {
  R req{};
  DoneCallback done;
};

}  // namespace mesh::core
