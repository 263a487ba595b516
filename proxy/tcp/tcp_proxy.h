// TcpProxySession: a protocol "tcp" listener's connection, forwarded byte for byte to a host
// of the listener's cluster (with the cluster's TLS: ISTIO_MUTUAL connects to the endpoint's
// sidecar with the workload certificate), or an inbound TCP port's connection, decrypted,
// forwarded to the local app. Nothing is read before the upstream is connected and nothing
// is sniffed, so server-first protocols (MySQL greets first) work. Each side's reading stops
// while the other side's write queue is above a high mark (back-pressure), an EOF is passed
// on as a half-close, and the session ends when both directions are done or either breaks.
#pragma once

#include <functional>
#include <memory>

#include "core/loop/address.h"
#include "core/loop/tcp.h"
#include "core/loop/timer.h"
#include "proxy/server/worker_context.h"
#include "proxy/telemetry/istio_metrics.h"

namespace mesh::proxy {

class TcpProxySession {
 public:
  using ClosedCallback = std::function<void(TcpProxySession&)>;

  TcpProxySession(WorkerContext& worker, std::unique_ptr<core::TcpStream> downstream,
                  std::string cluster, ClosedCallback onClosed);
  // Any stream (TLS from the inbound listener); `peer` is the client's address.
  TcpProxySession(WorkerContext& worker, std::unique_ptr<core::Stream> downstream,
                  core::SocketAddress peer, std::string cluster, ClosedCallback onClosed);
  ~TcpProxySession();
  TcpProxySession(const TcpProxySession&) = delete;
  TcpProxySession& operator=(const TcpProxySession&) = delete;

  // Transparent capture of an unknown destination (ALLOW_ANY): connect to `original`
  // instead of a host of the cluster. Before start().
  void passThroughTo(const core::SocketAddress& original) { original_ = original; }
  void start();
  void close();

 private:
  // One direction: reads `from`, writes `to`.
  class Side final : public core::StreamSink {
   public:
    Side(TcpProxySession& session, core::Stream& from, core::Stream& to)
        : session_(session), from_(from), to_(to) {}
    void onData(core::ByteView data) override;
    void onEof() override;
    void onError(const core::Status& status) override;
    void resume();
    bool eof = false;
    core::metrics::Counter* bytes = nullptr;  // istio_tcp_{received,sent}_bytes_total

   private:
    TcpProxySession& session_;
    core::Stream& from_;
    core::Stream& to_;
    bool paused_ = false;
  };

  void connect(const core::SocketAddress& address);
  void onTcpConnected(core::Status status);
  void onConnected(core::Status status);
  void startPassthrough();
  void maybeFinish();

  WorkerContext& worker_;
  std::string cluster_;
  core::SocketAddress original_;  // set: pass through to it, no cluster
  ClosedCallback onClosed_;
  Host* host_ = nullptr;
  std::shared_ptr<const ClusterInfo> info_;
  CircuitBreaker::Slot slot_;
  bool closed_ = false;
  telemetry::TcpSeries metrics_;  // set once connected
  UpstreamTlsTarget tls_;  // the cluster's TLS for this host; no context: plain text
  core::SocketAddress peer_;
  std::unique_ptr<core::Stream> downstream_;
  core::TcpStream* downstreamTcp_ = nullptr;  // downstream_ when it is a plain socket
  std::unique_ptr<core::Stream> upstream_;    // the socket, or TLS over it once connected
  core::TcpStream* upstreamTcp_ = nullptr;    // the socket under upstream_
  std::unique_ptr<core::Timer> connectTimer_;
  std::unique_ptr<Side> up_;    // downstream -> upstream
  std::unique_ptr<Side> down_;  // upstream -> downstream
};

}  // namespace mesh::proxy
