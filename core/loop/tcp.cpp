#include "core/loop/tcp.h"

#include <sys/socket.h>
#include <unistd.h>

#include "core/base/log.h"

namespace mesh::core {

namespace {

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

TcpStream::TcpStream(Loop& loop) : UvStream(loop) {
  uv_tcp_init(loop.raw(), handle_.get());  // cannot fail without a socket family
}

Status TcpStream::connect(const SocketAddress& peer, DoneCallback done) {
  if (!handle_) return closedError("connect");
  if (connecting_) return error(Code::invalid, "connect: already connecting");
  auto request = std::make_unique<Request<uv_connect_t>>();
  request->done = std::move(done);
  request->req.data = request.get();
  int rc = uv_tcp_connect(&request->req, handle_.get(), peer.raw(), [](uv_connect_t* req, int st) {
    std::unique_ptr<Request<uv_connect_t>> request(static_cast<Request<uv_connect_t>*>(req->data));
    auto* self = static_cast<TcpStream*>(from(req->handle));
    if (!self) return;
    self->connecting_ = false;
    if (request->done) request->done(uvStatus(st, "connect"));
  });
  if (rc != 0) return uvStatus(rc, "connect " + peer.toString());
  connecting_ = true;
  request.release();  // owned by libuv until the callback
  return {};
}

Status TcpStream::setNoDelay(bool enable) {
  if (!handle_) return closedError("nodelay");
  return uvStatus(uv_tcp_nodelay(handle_.get(), enable ? 1 : 0), "nodelay");
}

Status TcpStream::setKeepAlive(bool enable, unsigned delaySeconds) {
  if (!handle_) return closedError("keepalive");
  return uvStatus(uv_tcp_keepalive(handle_.get(), enable ? 1 : 0, delaySeconds), "keepalive");
}

SocketAddress TcpStream::localAddress() const { return nameOf(handle_.get(), false); }
SocketAddress TcpStream::peerAddress() const { return nameOf(handle_.get(), true); }

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
