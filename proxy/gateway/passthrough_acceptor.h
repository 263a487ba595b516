// PassthroughAcceptor: a gateway listener for PASSTHROUGH servers (Istio's "ingress without
// TLS termination"). It reads the client's TLS ClientHello (client_hello.h) without answering
// it, picks the cluster of the first SNI route that names the requested server, and hands
// the connection, with the bytes read so far replayed first, to a TCP proxy: the backend
// terminates TLS with its own certificate.
//
// Owned by one Worker; owns the connections whose ClientHello is still coming. A connection
// that sends no whole ClientHello within the time limit, is not TLS, or asks for a name no
// route takes is closed, logged and counted in
// mesh_proxy_gateway_passthrough_refusals_total{reason} (timeout, not_tls, no_route).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/loop/address.h"
#include "core/loop/loop.h"
#include "core/loop/tcp.h"
#include "core/metrics/registry.h"
#include "core/model/listener.h"
#include "proxy/server/pending_connections.h"

namespace mesh::proxy {

// The route for `serverName` (case-insensitive; "*.example.com" takes any name under
// example.com, "*" any name, including none); null when none takes it.
const core::model::SniRoute* findSniRoute(const core::model::Listener& listener,
                                          std::string_view serverName);

class PassthroughAcceptor {
 public:
  using Ready = std::function<void(std::unique_ptr<core::Stream> stream,
                                   const core::SocketAddress& peer, const std::string& cluster)>;

  PassthroughAcceptor(core::Loop& loop, core::metrics::Registry& registry, uint32_t timeoutMs,
                      Ready ready);
  ~PassthroughAcceptor();
  PassthroughAcceptor(const PassthroughAcceptor&) = delete;
  PassthroughAcceptor& operator=(const PassthroughAcceptor&) = delete;

  // `listener` is copied: the connection keeps the routes it was accepted under.
  void accept(const core::model::Listener& listener, std::unique_ptr<core::TcpStream> stream);
  // Drops every connection still being read (drain, stop).
  void closeAll();

 private:
  class Pending;
  friend class Pending;

  core::Loop& loop_;
  core::metrics::Family<core::metrics::Counter>& refusals_;
  uint32_t timeoutMs_;
  Ready ready_;
  PendingConnections<Pending> pending_;
};

}  // namespace mesh::proxy
