// ConnPool: the keep-alive connections of one worker thread to one host. A request asks for
// a connection; it gets an idle one at once, or a new one once connected, or waits in the
// pending queue, or is refused when the cluster's circuit breaker says so (maxConnections
// reached and maxPendingRequests full: 503 UO). Connections come back with release(), and a
// waiting request gets them first.
//
// To another sidecar (ISTIO_MUTUAL), the pool's connections are streams of one mTLS
// connection (proxy/mux) when the peer agrees to it in ALPN: a connection then costs no
// handshake, and the exchanges of one loop turn leave in one write. Everything above the
// stream (keep-alive, circuit breaking, limits) is the same as with one connection each.
//
// Owned by the worker's cluster table through shared_ptr; a request in flight holds a
// reference, so a config reload that drops the cluster lets the request finish.
#pragma once

#include <chrono>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/loop/loop.h"
#include "proxy/mtls/transport_security.h"
#include "proxy/mux/session.h"
#include "proxy/upstream/cluster_info.h"
#include "proxy/upstream/dial.h"
#include "proxy/upstream/upstream_connection.h"

namespace mesh::proxy {

enum class PoolFailure { overflow, connectFailure, connectTimeout };

class ConnPool : public std::enable_shared_from_this<ConnPool> {
 public:
  class Callbacks {
   public:
    virtual void onPoolReady(std::unique_ptr<UpstreamConnection> connection) = 0;
    virtual void onPoolFailure(PoolFailure failure, std::string why) = 0;

   protected:
    ~Callbacks() = default;
  };

  // `security` secures connections for clusters with a tls mode (null: none can be).
  ConnPool(core::Loop& loop, std::shared_ptr<const ClusterInfo> cluster, Host& host,
           std::shared_ptr<const TransportSecurity> security = nullptr);
  ~ConnPool();
  ConnPool(const ConnPool&) = delete;
  ConnPool& operator=(const ConnPool&) = delete;

  // Calls back exactly once, possibly before returning, unless cancel() comes first.
  void request(Callbacks& callbacks);
  void cancel(Callbacks& callbacks);
  // Back from an exchange. A connection that is not reusable, or one over
  // maxRequestsPerConnection, is closed.
  void release(std::unique_ptr<UpstreamConnection> connection);

  Host& host() const { return host_; }
  const ClusterInfo& cluster() const { return *cluster_; }
  size_t idleCount() const { return idle_.size(); }
  // Closes idle connections (drain and config removal).
  void closeIdle();

 private:
  struct Pending {
    Callbacks* callbacks;
    CircuitBreaker::Slot slot;  // one of maxPendingRequests
  };
  void connectNew();
  void onConnected(UpstreamConnection& connection, core::Status status);
  void serve(std::unique_ptr<UpstreamConnection> connection);
  std::unique_ptr<UpstreamConnection> takeConnecting(UpstreamConnection& connection);
  // Multiplexing: whether a connection to this target may be a stream, getting the shared
  // connection up, and handing its streams to the connections waiting for one.
  bool multiplexes(const UpstreamTlsTarget& target) const;
  void startSession(const UpstreamTlsTarget& target);
  void onDialed(core::Status status, std::unique_ptr<core::Stream> tls, std::string_view alpn);
  void handOutStreams();
  std::vector<UpstreamConnection*> awaitingStreams() const;

  core::Loop& loop_;
  std::shared_ptr<const ClusterInfo> cluster_;
  Host& host_;
  std::shared_ptr<const TransportSecurity> security_;
  std::list<Pending> pending_;
  std::vector<std::unique_ptr<UpstreamConnection>> idle_;
  std::vector<std::unique_ptr<UpstreamConnection>> connecting_;  // some await a stream
  std::shared_ptr<mux::Session> session_;  // the shared connection, once up
  std::unique_ptr<Dial> dial_;             // the shared connection, coming up
  bool peerDeclinedMux_ = false;           // the peer chose HTTP/1.1: a connection each
};

}  // namespace mesh::proxy
