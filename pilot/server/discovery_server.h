// DiscoveryServer: pilot's config endpoint (port 15012). Each connection is mutual TLS: the
// proxy's certificate must chain to the mesh's trust bundle and carry a SPIFFE id of the
// trust domain (the TlsContext's PeerPolicy). The first frame must be `hello`, within
// helloTimeout, naming the certificate's own namespace and service account; then the
// connection is handed to the Pusher, and `ack`/`nack` frames go to it. `ping` is answered by
// the framing layer. A proxy that sends nothing for three keepalive intervals is dropped,
// as is one that sends a frame pilot cannot parse.
//
// A second connection from the same node replaces the first (a proxy that reconnected before
// pilot saw the old connection die).
//
// Ownership: owns the listener, its timers and every connection; borrows the Loop, the
// Pusher and the metrics. The TlsContext is shared with whoever renews its certificate.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "core/loop/address.h"
#include "core/loop/loop.h"
#include "core/loop/tcp.h"
#include "core/loop/timer.h"
#include "core/tls/context.h"
#include "pilot/push/push_metrics.h"
#include "pilot/push/pusher.h"

namespace mesh::pilot {

inline constexpr std::uint16_t kDefaultXdsPort = 15012;

struct DiscoveryServerOptions {
  core::SocketAddress listen = core::SocketAddress::anyV4(kDefaultXdsPort);
  std::chrono::milliseconds handshakeTimeout{10'000};
  std::chrono::milliseconds helloTimeout{10'000};
  // The proxies' ping interval: three of them in silence close a connection.
  std::chrono::milliseconds keepalive{15'000};
  // What a proxy sends is small (hello, ack, nack); this bounds a misbehaving one.
  std::size_t maxFrameBytes = 1 << 20;
};

class DiscoveryServer {
 public:
  DiscoveryServer(core::Loop& loop, std::shared_ptr<core::TlsContext> tls, Pusher& pusher,
                  PushMetrics& metrics, DiscoveryServerOptions options);
  ~DiscoveryServer();
  DiscoveryServer(const DiscoveryServer&) = delete;
  DiscoveryServer& operator=(const DiscoveryServer&) = delete;

  core::Status start();
  void stop();
  std::uint16_t port() const { return listener_.port(); }
  std::size_t connectionCount() const { return connections_.size(); }

 private:
  class Connection;
  void onAccept(std::unique_ptr<core::TcpStream> tcp);
  void adopt(Connection* connection);
  void remove(Connection* connection);
  void onKeepaliveTick();
  void refuse(const char* reason);

  core::Loop& loop_;
  std::shared_ptr<core::TlsContext> tls_;
  Pusher& pusher_;
  PushMetrics& metrics_;
  DiscoveryServerOptions options_;
  core::TcpListener listener_;
  core::Timer keepalive_;
  std::map<Connection*, std::unique_ptr<Connection>> connections_;
  std::map<std::string, Connection*> byNode_;
};

}  // namespace mesh::pilot
