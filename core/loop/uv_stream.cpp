#include "core/loop/uv_stream.h"

#include <sys/mman.h>

#include <array>
#include <cstdlib>
#include <vector>

namespace mesh::core {

namespace {

Status closedError(const char* what) {
  return error(Code::unavailable, std::string(what) + ": stream is closed");
}

// The read buffer of the calling thread, shared by its TCP and pipe streams. On the heap and
// made on first use, not a thread_local array: glibc zeroes a thread's whole static TLS block
// when it creates the thread, so two 64 KiB arrays there were 128 KiB of dirty memory in every
// thread of every process (a proxy's workers, its JWKS fetcher), read or not. From the heap,
// only the pages a read actually fills are ever touched.
constexpr std::size_t kReadBufferSize = 64 * 1024;

// Whole pages, so that releaseThreadReadBuffer can hand them back without freeing the buffer.
constexpr std::size_t kPage = 4096;

struct ReadBuffer {
  char* data = nullptr;
  bool used = false;  // since the last releaseThreadReadBuffer
  ~ReadBuffer() { std::free(data); }
};
thread_local ReadBuffer readBuffer;

// Null when out of memory: libuv then fails the read with UV_ENOBUFS.
char* threadReadBuffer() {
  if (!readBuffer.data) {
    readBuffer.data = static_cast<char*>(std::aligned_alloc(kPage, kReadBufferSize));
  }
  readBuffer.used = true;
  return readBuffer.data;
}

}  // namespace

// Declared in heap_trimmer.h, which calls it on the buffer's thread between reads: the buffer
// holds nothing then, and after one large read (a config snapshot, a big body) it is 64 KiB of
// dirty pages until the next. MADV_DONTNEED drops them; the next read faults in zero pages.
bool releaseThreadReadBuffer() {
  if (!readBuffer.used) return false;  // its pages went back last time, and nothing came since
  readBuffer.used = false;
  ::madvise(readBuffer.data, kReadBufferSize, MADV_DONTNEED);
  return true;
}

template <typename H>
struct UvStream<H>::WriteRequest {
  uv_write_t req{};
  DoneCallback done;
  std::string owned;  // the bytes of write(std::string), kept until the write completes
};

template <typename H>
Status UvStream<H>::startReading(StreamSink& sink) {
  if (!handle_) return closedError("read");
  bool wasReading = sink_ != nullptr;
  sink_ = &sink;
  if (wasReading) return {};
  if (int rc = uv_read_start(raw(), &UvStream::onAlloc, &UvStream::onRead); rc != 0) {
    sink_ = nullptr;
    return uvStatus(rc, "read");
  }
  return {};
}

template <typename H>
void UvStream<H>::stopReading() {
  sink_ = nullptr;
  if (handle_) uv_read_stop(raw());
}

template <typename H>
void UvStream<H>::onAlloc(uv_handle_t*, std::size_t, uv_buf_t* buf) {
  // libuv reads into this and calls onRead right away, so one buffer per thread serves every
  // stream and an idle connection holds no read buffer at all.
  char* buffer = threadReadBuffer();
  *buf = uv_buf_init(buffer, buffer ? kReadBufferSize : 0);
}

template <typename H>
void UvStream<H>::onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = from(stream);
  if (!self || !self->sink_ || nread == 0) return;
  StreamSink* sink = self->sink_;
  if (nread > 0) {
    sink->onData(ByteView(buf->base, static_cast<std::size_t>(nread)));
    return;
  }
  self->stopReading();
  if (nread == UV_EOF) {
    sink->onEof();
  } else {
    sink->onError(uvStatus(static_cast<int>(nread), "read"));
  }
}

template <typename H>
int UvStream<H>::writeNow(std::span<const ByteView> chunks) {
  std::array<uv_buf_t, 16> bufs;
  if (chunks.empty() || chunks.size() > bufs.size()) return 0;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    bufs[i] =
        uv_buf_init(const_cast<char*>(chunks[i].data()), static_cast<unsigned>(chunks[i].size()));
  }
  int n = uv_try_write(raw(), bufs.data(), static_cast<unsigned>(chunks.size()));
  return n == UV_EAGAIN ? 0 : n;
}

template <typename H>
void UvStream<H>::completeLater(DoneCallback done) {
  if (!done) return;
  completed_.push_back(std::move(done));
  loop_.schedule(completion_);
}

template <typename H>
void UvStream<H>::runCompleted() {
  // The batch lives on the stack: a callback may destroy the stream.
  std::vector<DoneCallback> batch;
  batch.swap(completed_);
  completed_.swap(spare_);
  bool destroyed = false;
  destroyed_ = &destroyed;
  for (auto& cb : batch) {
    if (!handle_) break;  // closed by a callback: the rest are dropped
    cb(Status{});
    if (destroyed) return;
  }
  destroyed_ = nullptr;
  batch.clear();
  spare_.swap(batch);
}

// Most writes fit in the socket buffer at once: they go out right here, and only what the
// socket does not take becomes a libuv write request.
template <typename H>
Status UvStream<H>::write(std::span<const ByteView> chunks, DoneCallback done) {
  return writeChunks(chunks, std::move(done), /*copyRest=*/false);
}

template <typename H>
Status UvStream<H>::writeCopy(std::span<const ByteView> chunks, DoneCallback done) {
  return writeChunks(chunks, std::move(done), /*copyRest=*/true);
}

template <typename H>
Status UvStream<H>::writeChunks(std::span<const ByteView> chunks, DoneCallback done,
                                bool copyRest) {
  if (!handle_) return closedError("write");
  std::size_t total = 0;
  for (const auto& c : chunks) total += c.size();
  int n = writeNow(chunks);
  if (n < 0) return uvStatus(n, "write");
  if (static_cast<std::size_t>(n) == total) {
    completeLater(std::move(done));
    return {};
  }
  // The rest: skip what was written.
  std::vector<ByteView> rest;
  std::size_t skip = static_cast<std::size_t>(n);
  for (const auto& c : chunks) {
    if (skip >= c.size()) {
      skip -= c.size();
      continue;
    }
    rest.push_back(c.subspan(skip));
    skip = 0;
  }
  auto request = std::make_unique<WriteRequest>();
  request->done = std::move(done);
  if (copyRest) {
    request->owned.reserve(total - static_cast<std::size_t>(n));
    for (const auto& c : rest) request->owned.append(c.data(), c.size());
    rest.assign(1, ByteView(request->owned));
  }
  return submit(std::move(request), rest);
}

template <typename H>
Status UvStream<H>::write(std::string data, DoneCallback done) {
  if (!handle_) return closedError("write");
  ByteView all(data);
  int n = writeNow(std::span<const ByteView>(&all, 1));
  if (n < 0) return uvStatus(n, "write");
  if (static_cast<std::size_t>(n) == data.size()) {
    completeLater(std::move(done));
    return {};
  }
  auto request = std::make_unique<WriteRequest>();
  request->done = std::move(done);
  request->owned = std::move(data);
  ByteView chunk = ByteView(request->owned).subspan(static_cast<std::size_t>(n));
  return submit(std::move(request), std::span<const ByteView>(&chunk, 1));
}

template <typename H>
Status UvStream<H>::submit(std::unique_ptr<WriteRequest> request,
                           std::span<const ByteView> chunks) {
  if (!handle_) return closedError("write");
  // libuv copies the uv_buf_t array into the request, so it may live on the stack.
  std::array<uv_buf_t, 16> small;
  std::vector<uv_buf_t> large;
  uv_buf_t* bufs = small.data();
  if (chunks.size() > small.size()) {
    large.resize(chunks.size());
    bufs = large.data();
  }
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    bufs[i] =
        uv_buf_init(const_cast<char*>(chunks[i].data()), static_cast<unsigned>(chunks[i].size()));
  }
  request->req.data = request.get();
  int rc = uv_write(&request->req, raw(), bufs, static_cast<unsigned>(chunks.size()),
                    &UvStream::onWritten);
  if (rc != 0) return uvStatus(rc, "write");
  request.release();  // owned by libuv until onWritten
  return {};
}

template <typename H>
void UvStream<H>::onWritten(uv_write_t* req, int status) {
  std::unique_ptr<WriteRequest> request(static_cast<WriteRequest*>(req->data));
  if (!from(req->handle) || !request->done) return;
  request->done(uvStatus(status, "write"));
}

template <typename H>
std::size_t UvStream<H>::writeQueueSize() const {
  return handle_ ? uv_stream_get_write_queue_size(raw()) : 0;
}

template <typename H>
Status UvStream<H>::shutdown(DoneCallback done) {
  if (!handle_) return closedError("shutdown");
  auto request = std::make_unique<Request<uv_shutdown_t>>();
  request->done = std::move(done);
  request->req.data = request.get();
  int rc = uv_shutdown(&request->req, raw(), [](uv_shutdown_t* req, int status) {
    std::unique_ptr<Request<uv_shutdown_t>> request(
        static_cast<Request<uv_shutdown_t>*>(req->data));
    if (!from(req->handle) || !request->done) return;
    request->done(uvStatus(status, "shutdown"));
  });
  if (rc != 0) return uvStatus(rc, "shutdown");
  request.release();
  return {};
}

template <typename H>
void UvStream<H>::close() {
  sink_ = nullptr;
  completed_.clear();
  loop_.unschedule(completion_);
  handle_.reset();
}

template class UvStream<uv_tcp_t>;
template class UvStream<uv_pipe_t>;

}  // namespace mesh::core
