// Worker: one event-loop thread of the proxy. It owns its Loop, its listeners (each bound
// with SO_REUSEPORT to the same port as the other workers', so the kernel spreads
// connections), the client connections they accept, and its WorkerContext (config pointer,
// cluster table). Nothing on the request path is shared with other workers except immutable
// config and relaxed-atomic counters.
//
// The main thread talks to a worker only through post(), which queues a function under a
// mutex and wakes the loop (config updates, drain, stop: rare events, never per request).
//
// With one worker (--concurrency 1, what mesh up runs) the worker serves on the main thread's
// loop instead of a thread of its own: the control work (snapshots, renewals, admin) is rare
// and short, and a second thread would cost its stack and its own malloc arena (about
// 110 KiB resident) in every sidecar. post() then runs the task at once, on the one thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/loop/async.h"
#include "core/loop/heap_trimmer.h"
#include "core/loop/loop.h"
#include "core/loop/tcp.h"
#include "core/metrics/registry.h"
#include "core/model/listener.h"
#include "proxy/capture/capture_table.h"
#include "proxy/mux/session.h"
#include "proxy/server/worker_context.h"

namespace mesh::proxy {

class GatewayTlsAcceptor;
class HttpConnection;
class InboundAcceptor;
class PassthroughAcceptor;
struct InboundRoute;
class TcpProxySession;

class Worker {
 public:
  // `shared`: the main thread's loop to serve on, instead of a thread and loop of its own.
  Worker(unsigned index, const ProxyOptions& options, ProxyStats& stats,
         std::shared_ptr<const RuntimeConfig> config, core::Loop* shared = nullptr);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Before start() on the main thread, afterwards on the worker's own thread (via post).
  core::Status addListener(const core::model::Listener& listener, const core::SocketAddress& at);
  void removeListener(const std::string& name);

  void start();
  // Thread-safe.
  void post(std::function<void()> task);
  // On the worker thread (use post):
  void setConfig(std::shared_ptr<const RuntimeConfig> config);
  void drain();
  void stop();
  void join();
  uint64_t activeConnections() const { return context_.activeConnections.load(); }

 private:
  void onAccept(const std::string& listener, std::unique_ptr<core::TcpStream> stream);
  void runPosted();
  void startHttp(std::unique_ptr<HttpConnection> connection);
  void startInboundHttp(std::unique_ptr<core::Stream> stream, const core::SocketAddress& peer,
                        const InboundRoute& route);
  void startMux(std::unique_ptr<core::Stream> stream, const core::SocketAddress& peer,
                InboundRoute route);
  void onCaptured(const core::model::Listener& listener, const core::SocketAddress& original,
                  std::unique_ptr<core::TcpStream> stream);
  // An empty cluster with a `passthrough` address: to that address, not to a cluster.
  void startTcp(std::unique_ptr<core::TcpStream> stream, const std::string& cluster,
                const core::SocketAddress& passthrough);
  void startTcpSession(std::unique_ptr<TcpProxySession> session);
  std::function<void(TcpProxySession&)> forgetTcp();
  bool tcpAllowed(const core::SocketAddress& peer, const InboundRoute& route);
  core::metrics::Counter& captureCounter(capture::CaptureDecision::Kind kind);

  unsigned index_;
  std::unique_ptr<core::Loop> ownLoop_;  // null when serving on the main thread's loop
  core::Loop& loop_;
  // This thread's read buffer and the heap, given back when idle (core/loop/heap_trimmer.h).
  core::HeapTrimmer trimmer_{loop_};
  WorkerContext context_;
  capture::CaptureTable capture_;  // for the capture listener, from the config served
  core::metrics::Family<core::metrics::Counter>& captureFamily_;
  std::mutex mutex_;
  std::vector<std::function<void()>> posted_;
  std::map<std::string, std::unique_ptr<core::TcpListener>> listeners_;
  std::map<HttpConnection*, std::unique_ptr<HttpConnection>> http_;
  std::map<TcpProxySession*, std::unique_ptr<TcpProxySession>> tcp_;
  // Calling sidecars' shared connections (their streams are among http_).
  std::map<mux::Session*, std::shared_ptr<mux::Session>> mux_;
  std::unique_ptr<InboundAcceptor> inbound_;  // INBOUND listeners' connections before HTTP
  std::unique_ptr<GatewayTlsAcceptor> gatewayTls_;  // TLS gateway listeners', before HTTP
  std::unique_ptr<PassthroughAcceptor> passthrough_;  // PASSTHROUGH listeners', before TCP
  std::unique_ptr<core::Async> wake_;
  std::thread thread_;
};

}  // namespace mesh::proxy
