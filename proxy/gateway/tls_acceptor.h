// GatewayTlsAcceptor: the TLS handshake on a gateway listener that terminates TLS, before
// HTTP. The server context comes from the running config (proxy/gateway/server_context.h);
// a handshake must finish within the time limit. Then the decrypted stream goes to the
// worker's HTTP connection manager, routed by the listener's route table.
//
// Owned by one Worker; owns the connections still in their handshake. Failures are logged
// and counted in mesh_proxy_gateway_tls_failures_total{reason}.
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
#include "core/tls/context.h"

namespace mesh::proxy {

class GatewayTlsAcceptor {
 public:
  using Ready = std::function<void(std::unique_ptr<core::Stream> stream,
                                   const core::SocketAddress& peer,
                                   const core::model::Listener& listener)>;

  GatewayTlsAcceptor(core::Loop& loop, core::metrics::Registry& registry,
                     uint32_t handshakeTimeoutMs, Ready ready);
  ~GatewayTlsAcceptor();
  GatewayTlsAcceptor(const GatewayTlsAcceptor&) = delete;
  GatewayTlsAcceptor& operator=(const GatewayTlsAcceptor&) = delete;

  // `listener` is copied: the connection keeps the rules it was accepted under.
  void accept(const core::model::Listener& listener, std::shared_ptr<core::TlsContext> context,
              std::unique_ptr<core::TcpStream> stream);
  // Drops every connection still in its handshake (drain, stop).
  void closeAll();
  size_t pending() const { return pending_.size(); }

 private:
  class Pending;
  friend class Pending;

  core::Loop& loop_;
  core::metrics::Family<core::metrics::Counter>& failures_;
  uint32_t handshakeTimeoutMs_;
  Ready ready_;
  PendingConnections<Pending> pending_;
};

}  // namespace mesh::proxy
