// Dial: the connection a pool's mux session runs on. TCP to the endpoint's sidecar, then mTLS
// offering ALPN "mesh/mux1" ahead of the HTTP/1.1 ids, within the cluster's connect timeout.
// `done` runs once, never from inside the constructor; destroying the Dial cancels it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "core/loop/address.h"
#include "core/loop/loop.h"
#include "core/loop/tcp.h"
#include "core/loop/timer.h"
#include "core/tls/tls_stream.h"
#include "proxy/mtls/transport_security.h"

namespace mesh::proxy::mux {

class Dial {
 public:
  // With the established stream, or why there is none.
  using Done = std::function<void(core::Status, std::unique_ptr<core::TlsStream>)>;

  Dial(core::Loop& loop, const core::SocketAddress& address, const UpstreamTlsTarget& target,
       std::chrono::milliseconds timeout, Done done);
  Dial(const Dial&) = delete;
  Dial& operator=(const Dial&) = delete;

 private:
  void finish(core::Status status);

  core::TlsSessionOptions options_;
  std::shared_ptr<core::TlsContext> context_;
  std::unique_ptr<core::TcpStream> tcp_;  // until the TLS stream takes it
  std::unique_ptr<core::TlsStream> tls_;
  core::Timer timer_;
  Done done_;
};

}  // namespace mesh::proxy::mux
