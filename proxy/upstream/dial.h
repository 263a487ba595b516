// Dial: a new connection to an upstream host, all of it within the connect timeout: TCP (no
// delay), then, when `tls` has a context, the TLS handshake an endpoint's sidecar (mTLS) or a
// TLS origin expects, to the target's port when it names one. Every upstream connection starts
// here: one exchange's connection and the one a mux session runs on (which offers its own
// ALPN ids through `tls`).
//
// `done` runs once, with the connected stream and the ALPN id the server chose ("" without
// TLS or ALPN), or with why there is none; never from inside the constructor. Destroying the
// Dial cancels it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "core/loop/address.h"
#include "core/loop/loop.h"
#include "core/loop/stream.h"
#include "core/loop/tcp.h"
#include "core/loop/timer.h"
#include "core/tls/tls_stream.h"
#include "proxy/mtls/transport_security.h"

namespace mesh::proxy {

class Dial {
 public:
  using Done = std::function<void(core::Status, std::unique_ptr<core::Stream>, std::string_view alpn)>;

  // `tls` null or without a context: plain TCP.
  Dial(core::Loop& loop, const core::SocketAddress& address, const UpstreamTlsTarget* tls,
       std::chrono::milliseconds timeout, Done done);
  Dial(const Dial&) = delete;
  Dial& operator=(const Dial&) = delete;

 private:
  void onConnected(core::Status status);
  void finish(core::Status status);

  std::optional<UpstreamTlsTarget> tls_;  // set when the connection is to be secured
  std::unique_ptr<core::TcpStream> tcp_;  // until the TLS stream takes it
  std::unique_ptr<core::TlsStream> secured_;
  core::Timer timer_;
  Done done_;
};

}  // namespace mesh::proxy
