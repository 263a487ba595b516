// HttpConnection: the HTTP connection manager for one client connection. It owns the socket
// and the request parser, turns parsed heads into ActiveRequests (one at a time; pipelined
// requests wait in a buffer until the previous response is done), writes what the request
// sends back, and decides after each response whether the connection stays open
// (keep-alive) or closes (Connection: close, a request cut short, drain).
//
// Protection against slow or broken clients: a head must arrive within
// requestHeadersTimeoutMs (408 otherwise, so a slowloris client holds one socket and no
// more); a quiet keep-alive connection closes after idleTimeoutMs; a malformed request gets
// the codec's status (400, 413, 414, 431, 501, 505) with flag DPE and the connection closes.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/http/parser.h"
#include "core/loop/tcp.h"
#include "core/loop/timer.h"
#include "proxy/server/worker_context.h"

namespace mesh::proxy {

class ActiveRequest;

class HttpConnection final : private core::StreamSink, private core::http::RequestHandler {
 public:
  using ClosedCallback = std::function<void(HttpConnection&)>;

  HttpConnection(WorkerContext& worker, std::unique_ptr<core::TcpStream> stream,
                 std::string routeTable, uint32_t port, ClosedCallback onClosed);
  // Any stream (TLS from the inbound listener); `peer` is the client's address.
  HttpConnection(WorkerContext& worker, std::unique_ptr<core::Stream> stream,
                 core::SocketAddress peer, std::string routeTable, uint32_t port,
                 ClosedCallback onClosed);
  ~HttpConnection() override;
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  void start();
  // Inbound: every request gets x-forwarded-client-cert set to `value` ("" removes it),
  // whatever the client sent.
  void setForwardedClientCert(std::string value) { forwardedClientCert_ = std::move(value); }
  // A gateway listener's connection: its requests go through the gateway's policies.
  void setGateway() { gateway_ = true; }
  // Inbound over mTLS: who the peer is and the server name it asked for (authorization).
  void setPeerIdentity(std::string principal, std::string serverName) {
    peerPrincipal_ = std::move(principal);
    serverName_ = std::move(serverName);
  }
  // Transparent capture: the port the client connected to before iptables redirected it. A
  // Host without a port then routes as "host:port", as the client meant.
  void setOriginalPort(uint32_t port) { originalPort_ = port; }
  // A listener that terminated TLS (a gateway's HTTPS server): the requests are https, for
  // x-forwarded-proto, scheme matches and redirects.
  void setScheme(std::string scheme) { scheme_ = std::move(scheme); }
  // The worker is draining: close now if idle, else after the current response.
  void drain();

  // For the ActiveRequest.
  void write(std::string data);
  // The same for bytes the caller keeps and reuses (core::Stream::writeCopy).
  void writeCopy(std::string_view data);
  size_t writeQueueSize() const;
  void pauseReading();
  void resumeReading();
  void onRequestFinished(bool keepAlive);
  void enterTunnel();
  void closeNow();
  bool isDraining() const { return worker_.draining; }
  const core::SocketAddress& peer() const { return peer_; }

 private:
  enum class TimerMode { idle, head };
  // A write completed: the request may produce more, or the connection broke.
  void onWritten(const core::Status& status);
  // StreamSink
  void onData(core::ByteView data) override;
  void onEof() override;
  void onError(const core::Status& status) override;
  // RequestHandler
  core::http::Flow onHead(core::http::RequestHead& head) override;
  void onBody(std::string_view piece) override;
  core::http::Flow onMessageComplete(const core::http::HeaderMap& trailers) override;

  void feedLoop(std::string_view data);
  void protocolError();
  void closeAfterWrite();
  void armTimer(TimerMode mode);
  void onTimer();

  WorkerContext& worker_;
  std::string routeTable_;
  uint32_t port_;
  ClosedCallback onClosed_;
  core::SocketAddress peer_;
  std::string pending_;  // bytes read but not yet parsed (pipelining, upgrade)
  bool startPending_ = false;
  bool awaitingResponse_ = false;
  bool noMoreRequests_ = false;
  bool tunnel_ = false;
  bool closing_ = false;
  bool closed_ = false;
  bool reading_ = false;
  TimerMode timerMode_ = TimerMode::idle;
  bool timerArmed_ = false;  // a timeout applies (none while a request runs)
  uint64_t deadlineMs_ = 0;  // when it expires, in loop time
  std::optional<std::string> forwardedClientCert_;
  bool gateway_ = false;
  bool endPending_ = false;  // a request answered from its head; its end is still to parse
  std::string peerPrincipal_;
  std::string serverName_;
  uint32_t originalPort_ = 0;
  std::string scheme_ = "http";
  // Destruction order (reverse of declaration): the request first (it may still write),
  // then the parser, the timers, and the socket last.
  std::unique_ptr<core::Stream> stream_;
  std::unique_ptr<core::Timer> timer_;
  std::unique_ptr<core::Timer> resumeTimer_;
  std::unique_ptr<core::http::RequestParser> parser_;
  std::unique_ptr<ActiveRequest> active_;
};

}  // namespace mesh::proxy
