#include "core/loop/tcp.h"

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <vector>

#include "core/base/log.h"

namespace mesh::core {

namespace {

// A libuv request with the completion the caller asked for. It is freed in its callback,
// which libuv always runs (with UV_ECANCELED when the stream is closed first).
template <typename R>
struct Request {
  R req{};
  DoneCallback done;
};

Status closedError(const char* what) {
  return error(Code::unavailable, std::string(what) + ": stream is closed");
}

SocketAddress nameOf(const uv_tcp_t* tcp, bool peer) {
  if (!tcp) return {};
  sockaddr_storage storage{};
  int size = sizeof storage;
  auto* address = reinterpret_cast<sockaddr*>(&storage);
  int rc = peer ? uv_tcp_getpeername(tcp, address, &size) : uv_tcp_getsockname(tcp, address, &size);
  return rc == 0 ? SocketAddress::fromSockaddr(address) : SocketAddress{};
}

}  // namespace

struct TcpStream::WriteRequest {
  uv_write_t req{};
  DoneCallback done;
  std::string owned;  // the bytes of write(std::string), kept until the write completes
};

TcpStream::TcpStream(Loop& loop) : loop_(loop) {
  uv_tcp_init(loop.raw(), tcp_.allocate(this));  // cannot fail without a socket family
}

TcpStream::~TcpStream() = default;  // tcp_ closes the handle; pending callbacks are dropped

Status TcpStream::connect(const SocketAddress& peer, DoneCallback done) {
  if (!tcp_) return closedError("connect");
  if (connecting_) return error(Code::invalid, "connect: already connecting");
  auto request = std::make_unique<Request<uv_connect_t>>();
  request->done = std::move(done);
  request->req.data = request.get();
  int rc = uv_tcp_connect(&request->req, tcp_.get(), peer.raw(), [](uv_connect_t* req, int st) {
    std::unique_ptr<Request<uv_connect_t>> request(static_cast<Request<uv_connect_t>*>(req->data));
    auto* self = ownerOf<TcpStream>(req->handle);
    if (!self) return;
    self->connecting_ = false;
    if (request->done) request->done(uvStatus(st, "connect"));
  });
  if (rc != 0) return uvStatus(rc, "connect " + peer.toString());
  connecting_ = true;
  request.release();  // owned by libuv until the callback
  return {};
}

Status TcpStream::startReading(StreamSink& sink) {
  if (!tcp_) return closedError("read");
  bool wasReading = sink_ != nullptr;
  sink_ = &sink;
  if (wasReading) return {};
  if (int rc = uv_read_start(raw(), &TcpStream::onAlloc, &TcpStream::onRead); rc != 0) {
    sink_ = nullptr;
    return uvStatus(rc, "read");
  }
  return {};
}

void TcpStream::stopReading() {
  sink_ = nullptr;
  if (tcp_) uv_read_stop(raw());
}

void TcpStream::onAlloc(uv_handle_t*, std::size_t, uv_buf_t* buf) {
  // libuv reads into this and calls onRead right away, so one buffer per thread serves every
  // stream and an idle connection holds no read buffer at all.
  thread_local std::array<char, 64 * 1024> buffer;
  *buf = uv_buf_init(buffer.data(), buffer.size());
}

void TcpStream::onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = ownerOf<TcpStream>(stream);
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

Status TcpStream::write(std::span<const ByteView> chunks, DoneCallback done) {
  auto request = std::make_unique<WriteRequest>();
  request->done = std::move(done);
  return submit(std::move(request), chunks);
}

Status TcpStream::write(std::string data, DoneCallback done) {
  auto request = std::make_unique<WriteRequest>();
  request->done = std::move(done);
  request->owned = std::move(data);
  ByteView chunk(request->owned);
  return submit(std::move(request), std::span<const ByteView>(&chunk, 1));
}

Status TcpStream::submit(std::unique_ptr<WriteRequest> request, std::span<const ByteView> chunks) {
  if (!tcp_) return closedError("write");
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
                    &TcpStream::onWritten);
  if (rc != 0) return uvStatus(rc, "write");
  request.release();  // owned by libuv until onWritten
  return {};
}

void TcpStream::onWritten(uv_write_t* req, int status) {
  std::unique_ptr<WriteRequest> request(static_cast<WriteRequest*>(req->data));
  auto* self = ownerOf<TcpStream>(req->handle);
  if (!self || !request->done) return;
  request->done(uvStatus(status, "write"));
}

std::size_t TcpStream::writeQueueSize() const {
  return tcp_ ? uv_stream_get_write_queue_size(raw()) : 0;
}

Status TcpStream::shutdown(DoneCallback done) {
  if (!tcp_) return closedError("shutdown");
  auto request = std::make_unique<Request<uv_shutdown_t>>();
  request->done = std::move(done);
  request->req.data = request.get();
  int rc = uv_shutdown(&request->req, raw(), [](uv_shutdown_t* req, int status) {
    std::unique_ptr<Request<uv_shutdown_t>> request(
        static_cast<Request<uv_shutdown_t>*>(req->data));
    auto* self = ownerOf<TcpStream>(req->handle);
    if (!self || !request->done) return;
    request->done(uvStatus(status, "shutdown"));
  });
  if (rc != 0) return uvStatus(rc, "shutdown");
  request.release();
  return {};
}

void TcpStream::close() {
  sink_ = nullptr;
  tcp_.reset();
}

Status TcpStream::setNoDelay(bool enable) {
  if (!tcp_) return closedError("nodelay");
  return uvStatus(uv_tcp_nodelay(tcp_.get(), enable ? 1 : 0), "nodelay");
}

Status TcpStream::setKeepAlive(bool enable, unsigned delaySeconds) {
  if (!tcp_) return closedError("keepalive");
  return uvStatus(uv_tcp_keepalive(tcp_.get(), enable ? 1 : 0, delaySeconds), "keepalive");
}

SocketAddress TcpStream::localAddress() const { return nameOf(tcp_.get(), false); }
SocketAddress TcpStream::peerAddress() const { return nameOf(tcp_.get(), true); }

TcpListener::TcpListener(Loop& loop) : loop_(loop) { uv_tcp_init(loop.raw(), tcp_.allocate(this)); }

TcpListener::~TcpListener() = default;

Status TcpListener::listen(const SocketAddress& address, AcceptCallback onAccept,
                           const ListenOptions& options) {
  if (!tcp_) return closedError("listen");
  std::string where = "listen " + address.toString();
  if (address.empty()) return error(Code::invalid, "listen: no address");
  if (options.reusePort) {
    // libuv 1.44 has no flag for SO_REUSEPORT: make the socket, set it, hand it to libuv.
    int fd = ::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return uvStatus(-errno, where);
    int one = 1;
    if (::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
      int rc = -errno;
      ::close(fd);
      return uvStatus(rc, where + " (SO_REUSEPORT)");
    }
    if (int rc = uv_tcp_open(tcp_.get(), fd); rc != 0) {
      ::close(fd);
      return uvStatus(rc, where);
    }
  }
  unsigned flags = options.ipv6Only && address.isV6() ? UV_TCP_IPV6ONLY : 0;
  if (int rc = uv_tcp_bind(tcp_.get(), address.raw(), flags); rc != 0) return uvStatus(rc, where);
  onAccept_ = std::move(onAccept);
  if (int rc = uv_listen(reinterpret_cast<uv_stream_t*>(tcp_.get()), options.backlog,
                         &TcpListener::onConnection);
      rc != 0) {
    onAccept_ = nullptr;
    return uvStatus(rc, where);
  }
  return {};
}

SocketAddress TcpListener::localAddress() const { return nameOf(tcp_.get(), false); }

void TcpListener::onConnection(uv_stream_t* server, int status) {
  auto* self = ownerOf<TcpListener>(server);
  if (!self) return;
  if (status < 0) {
    ++self->acceptErrors_;
    LOG_WARN("loop", "accept on ", self->localAddress().toString(), ": ", uv_strerror(status));
    return;
  }
  auto stream = std::make_unique<TcpStream>(self->loop_);
  if (int rc = uv_accept(server, stream->raw()); rc != 0) {
    ++self->acceptErrors_;
    LOG_WARN("loop", "accept on ", self->localAddress().toString(), ": ", uv_strerror(rc));
    return;
  }
  if (self->onAccept_) self->onAccept_(std::move(stream));
}

}  // namespace mesh::core
