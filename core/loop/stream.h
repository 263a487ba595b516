// Stream: a connected byte stream as the layers above see it. TcpStream implements it over
// libuv; a TLS session can implement it over a TcpStream, so HTTP and the control protocol
// run on either without knowing which.
//
// Rules shared by every implementation:
// - A call that returns an error never fires its callback.
// - No callback fires after the stream is destroyed or closed (pending writes are dropped
//   silently: their callbacks do not run).
// - Destroying the stream from inside one of its own callbacks is allowed; the stream does not
//   touch itself after calling out. (Many owners prefer deferredDelete() anyway.)
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string>

#include "core/base/status.h"

namespace mesh::core {

using ByteView = std::span<const char>;
// Completion of a write, shutdown or connect: ok, or why not.
using DoneCallback = std::function<void(Status)>;

// Where a stream delivers what it reads. Usually the object that owns the stream.
class StreamSink {
 public:
  // `data` is valid only during the call; copy what must be kept.
  virtual void onData(ByteView data) = 0;
  // The peer finished sending (it may still read what we write).
  virtual void onEof() = 0;
  // Reading failed (connection reset, ...). Reading has stopped.
  virtual void onError(const Status& status) = 0;

 protected:
  ~StreamSink() = default;
};

class Stream {
 public:
  virtual ~Stream() = default;

  // Delivers data to `sink` until stopReading(), EOF, an error or close. The sink is borrowed:
  // it must outlive reading.
  virtual Status startReading(StreamSink& sink) = 0;
  virtual void stopReading() = 0;

  // Gather write: the chunks go out in order as one write. The bytes are borrowed: they must
  // stay valid until `done` runs (or the stream is destroyed). `done` may be empty.
  virtual Status write(std::span<const ByteView> chunks, DoneCallback done) = 0;
  // Same for one buffer the stream keeps until it is written.
  virtual Status write(std::string data, DoneCallback done) = 0;
  // Same, but what the stream cannot hand on at once it copies: the caller's buffers are free
  // again when this returns, so one buffer can serve write after write.
  virtual Status writeCopy(std::span<const ByteView> chunks, DoneCallback done) {
    std::string data;
    for (const auto& c : chunks) data.append(c.data(), c.size());
    return write(std::move(data), std::move(done));
  }
  // Bytes accepted by write() and not yet handed to the kernel: stop producing when this
  // grows past a limit, resume from a write's `done`.
  virtual std::size_t writeQueueSize() const = 0;

  // Half-close after the queued writes: the peer sees EOF. Reading goes on.
  virtual Status shutdown(DoneCallback done) = 0;
  // Closes now; queued writes are dropped. Idempotent. The destructor closes too.
  virtual void close() = 0;
  virtual bool isOpen() const = 0;
};

}  // namespace mesh::core
