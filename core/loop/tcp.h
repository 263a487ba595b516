// TCP over libuv: TcpListener accepts connections and hands each one over as a TcpStream;
// TcpStream connects, reads into a StreamSink and writes gathered buffers (the Stream
// interface, implemented in uv_stream.h).
//
// Each object owns its uv_tcp_t (see handle.h) and must not outlive its Loop. Objects are
// neither copyable nor movable (libuv holds their address); keep them by value as a member or
// by unique_ptr.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>

#include "core/loop/address.h"
#include "core/loop/handle.h"
#include "core/loop/loop.h"
#include "core/loop/stream.h"
#include "core/loop/uv_stream.h"

namespace mesh::core {

class TcpStream final : public UvStream<uv_tcp_t> {
 public:
  // An unconnected stream; call connect() next. (Accepted streams come from TcpListener.)
  explicit TcpStream(Loop& loop);

  // Starts connecting; `done` gets ok or the reason (connection refused: Code::unavailable).
  // One connect per stream.
  Status connect(const SocketAddress& peer, DoneCallback done);

  Status setNoDelay(bool enable);
  Status setKeepAlive(bool enable, unsigned delaySeconds);
  // Empty when not connected.
  SocketAddress localAddress() const;
  SocketAddress peerAddress() const;

 private:
  bool connecting_ = false;
};

struct ListenOptions {
  int backlog = 511;
  // SO_REUSEPORT: several listeners (one per loop thread) share the port and the kernel
  // spreads connections between them.
  bool reusePort = false;
  // IPV6_V6ONLY for an IPv6 address (otherwise [::] also accepts IPv4-mapped peers).
  bool ipv6Only = false;
};

class TcpListener {
 public:
  // Gets each accepted connection, already connected and not yet reading.
  using AcceptCallback = std::function<void(std::unique_ptr<TcpStream>)>;

  explicit TcpListener(Loop& loop);
  ~TcpListener();
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  // Binds and listens. Port 0 picks a free port: read it back with port(). Failures to
  // accept one connection (out of file descriptors) are logged and counted, not reported.
  Status listen(const SocketAddress& address, AcceptCallback onAccept,
                const ListenOptions& options = {});
  // The bound address and port (the real one when listen() was given port 0).
  SocketAddress localAddress() const;
  std::uint16_t port() const { return localAddress().port(); }
  std::uint64_t acceptErrors() const { return acceptErrors_; }
  void close() { tcp_.reset(); }
  bool isOpen() const { return static_cast<bool>(tcp_); }

 private:
  static void onConnection(uv_stream_t* server, int status);

  Loop& loop_;
  AcceptCallback onAccept_;
  std::uint64_t acceptErrors_ = 0;
  HandleOwner<uv_tcp_t> tcp_;
};

}  // namespace mesh::core
