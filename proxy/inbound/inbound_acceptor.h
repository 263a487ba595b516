// InboundAcceptor: the first moments of a connection on an INBOUND listener, before HTTP.
// It reads the first byte to tell TLS (0x16, a handshake record) from plain text, runs the
// mTLS handshake with the workload's server context (the peer must present a certificate
// that verifies against the trust bundle and names a SPIFFE id of our trust domain), finds
// the workload port the connection is for (Istio's SNI "outbound_.<port>_..." from a calling
// sidecar; else the port the client connected to before iptables redirected it, from
// SO_ORIGINAL_DST; else the listener's only port), applies that port's PeerAuthentication mode
// (STRICT refuses plain text, DISABLE refuses TLS, PERMISSIVE takes both) and hands the
// connection, decrypted, to the worker: an http port's to the HTTP connection manager with
// what the app must learn about the peer (x-forwarded-client-cert), a tcp port's to a TCP
// proxy to the local app. Telling TLS from plain text needs the client's first byte, so a
// protocol where the server speaks first works here over mTLS (the calling sidecar starts
// the handshake), not in plain text.
//
// Owned by one Worker; owns the connections still being sorted out. Every refusal is logged
// and counted in mesh_proxy_inbound_refusals_total{reason}.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/loop/address.h"
#include "core/loop/loop.h"
#include "core/loop/tcp.h"
#include "core/metrics/registry.h"
#include "core/model/listener.h"
#include "proxy/server/pending_connections.h"
#include "proxy/mtls/transport_security.h"

namespace mesh::proxy {

// Where an accepted inbound connection goes once it is sorted out.
struct InboundRoute {
  uint32_t port = 0;                // the workload port
  std::string cluster;              // inbound|<port>||, the local app
  std::string protocol = "http";    // the port's protocol
  std::string forwardedClientCert;  // x-forwarded-client-cert for the app; "" without mTLS
  std::string peerPrincipal;        // the peer's SPIFFE id without "spiffe://"; "" without mTLS
  std::string serverName;           // the SNI the peer sent
  bool multiplexed = false;         // the stream carries a mux session (proxy/mux), not HTTP
};

class InboundAcceptor {
 public:
  using Ready = std::function<void(std::unique_ptr<core::Stream> stream,
                                   const core::SocketAddress& peer, InboundRoute route)>;

  InboundAcceptor(core::Loop& loop, core::metrics::Registry& registry,
                  std::shared_ptr<const TransportSecurity> security, uint32_t handshakeTimeoutMs,
                  Ready ready);
  ~InboundAcceptor();
  InboundAcceptor(const InboundAcceptor&) = delete;
  InboundAcceptor& operator=(const InboundAcceptor&) = delete;

  // `listener` is copied: the connection keeps the rules it was accepted under.
  void accept(const core::model::Listener& listener, std::unique_ptr<core::TcpStream> stream);
  // Drops every connection still being sorted out (drain, stop).
  void closeAll();
  size_t pending() const { return pending_.size(); }

 private:
  class Pending;
  friend class Pending;
  core::metrics::Counter& refusal(const std::string& reason);

  core::Loop& loop_;
  core::metrics::Family<core::metrics::Counter>& refusals_;
  std::shared_ptr<const TransportSecurity> security_;
  uint32_t handshakeTimeoutMs_;
  Ready ready_;
  PendingConnections<Pending> pending_;
};

}  // namespace mesh::proxy
