// UpstreamConnection: one HTTP/1.1 connection to a host, carrying one exchange at a time.
// It owns its socket and its response parser (member order is destruction order: the
// parser goes before the stream it reads from). Idle, it is owned by its ConnPool; busy,
// by the request attempt that checked it out, which gets the response through
// UpstreamCallbacks and hands the connection back with ConnPool::release().
//
// After a 101 answer the connection becomes a tunnel: raw bytes both ways (WebSocket).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/http/parser.h"
#include "core/loop/stream.h"
#include "core/loop/timer.h"
#include "proxy/mtls/transport_security.h"
#include "proxy/upstream/circuit_breaker.h"
#include "proxy/upstream/dial.h"
#include "proxy/upstream/host.h"
#include "proxy/upstream/retry_policy.h"

namespace mesh::proxy {

class UpstreamCallbacks {
 public:
  virtual void onUpstreamHead(core::http::ResponseHead& head) = 0;
  virtual void onUpstreamBody(std::string_view piece) = 0;
  virtual void onUpstreamComplete() = 0;
  // The exchange ended without a complete response. `responseStarted` tells whether any
  // response byte came in.
  virtual void onUpstreamFailure(AttemptFailure failure, std::string_view why) = 0;
  // Tunnel mode (after 101): raw bytes from the upstream, and its end.
  virtual void onUpstreamTunnelData(std::string_view data) = 0;
  virtual void onUpstreamTunnelEnd() = 0;
  // A write of ours finished: the write queue may have drained below the high mark.
  virtual void onUpstreamWritable() = 0;
  // Everything one read brought has been delivered: the time to pass it on in one write.
  virtual void onUpstreamReadDone() {}

 protected:
  ~UpstreamCallbacks() = default;
};

class UpstreamConnection final : private core::StreamSink, private core::http::ResponseHandler {
 public:
  // Called once per connection with the connect result.
  using ConnectDone = std::function<void(UpstreamConnection&, core::Status)>;

  // `cluster` owns `host` and the breaker behind `slot`: it is kept alive as long as the
  // connection, which may outlive the config that made it (deferred deletion).
  UpstreamConnection(core::Loop& loop, std::shared_ptr<const void> cluster, Host& host,
                     CircuitBreaker::Slot slot);
  ~UpstreamConnection() override;
  UpstreamConnection(const UpstreamConnection&) = delete;
  UpstreamConnection& operator=(const UpstreamConnection&) = delete;

  // Before connect(): how to secure the connection (mTLS to the endpoint's sidecar, or TLS
  // from files); the connect timeout covers the handshake too.
  void setTls(UpstreamTlsTarget target) {
    tls_ = std::make_unique<UpstreamTlsTarget>(std::move(target));
  }
  void connect(std::chrono::milliseconds timeout, ConnectDone done);
  // Instead of connect(): the pool will hand this connection a stream of a shared connection
  // (proxy/mux) with adopt(); until then it waits.
  void awaitStream() { awaitingStream_ = true; }
  bool awaitingStream() const { return awaitingStream_; }
  // Runs on `stream`, which is already connected (and secured).
  void adopt(std::unique_ptr<core::Stream> stream);

  // Starts an exchange: responses go to `callbacks` until detach().
  void attach(UpstreamCallbacks& callbacks, core::http::Method method);
  void detach() { callbacks_ = nullptr; }
  core::Status write(std::string data);
  // The same for bytes the caller keeps (core::Stream::writeCopy).
  core::Status writeCopy(std::span<const core::ByteView> chunks);
  size_t writeQueueSize() const { return stream_ ? stream_->writeQueueSize() : 0; }
  // Pause/resume reading the response (back-pressure from a slow client).
  void pauseReading();
  void resumeReading();
  // Once the current exchange ended: may it carry another request?
  bool reusable() const { return reusable_ && isOpen() && !tunnel_; }
  // Parks the connection in a pool: any byte, EOF, or `idleTimeout` without use (Istio's
  // idleTimeout) makes it call `onDead`, after which the pool drops it.
  void setIdle(std::function<void()> onDead, std::chrono::milliseconds idleTimeout);
  uint32_t requestsServed() const { return requests_; }
  Host& host() const { return host_; }
  core::Loop& loop() const { return loop_; }
  void close();
  // Gives the maxConnections slot back early, for a closed connection awaiting deletion.
  void dropSlot() { slot_.reset(); }

 private:
  bool isOpen() const { return stream_ && stream_->isOpen(); }
  // A write left the stream: the request may send more of its body.
  void onWritten(const core::Status& status);
  // StreamSink
  void onData(core::ByteView data) override;
  void onEof() override;
  void onError(const core::Status& status) override;
  // ResponseHandler
  core::http::Flow onHead(core::http::ResponseHead& head) override;
  void onBody(std::string_view piece) override;
  core::http::Flow onMessageComplete(const core::http::HeaderMap& trailers) override;

  void fail(AttemptFailure failure, std::string_view why);
  void onIdleTimer();

  core::Loop& loop_;
  std::shared_ptr<const void> cluster_;  // first: destroyed last
  Host& host_;
  CircuitBreaker::Slot slot_;  // one of the cluster's maxConnections
  UpstreamCallbacks* callbacks_ = nullptr;
  std::function<void()> onIdleDead_;
  uint64_t idleSinceMs_ = 0;  // loop time when the connection last went idle
  std::chrono::milliseconds idleTimeout_{0};
  uint32_t requests_ = 0;
  bool responseStarted_ = false;
  bool complete_ = false;
  bool reusable_ = true;
  bool tunnel_ = false;
  bool reading_ = false;
  bool awaitingStream_ = false;
  std::unique_ptr<UpstreamTlsTarget> tls_;  // null: plain text
  std::unique_ptr<Dial> dial_;            // connecting
  std::unique_ptr<core::Stream> stream_;  // once connected: TCP, TLS over it, or a mux stream
  std::unique_ptr<core::Timer> idleTimer_;
  std::unique_ptr<core::http::ResponseParser> parser_;  // after stream_: destroyed first
};

}  // namespace mesh::proxy
