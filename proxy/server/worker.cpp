#include "proxy/server/worker.h"

#include "core/base/log.h"
#include "proxy/authz/attributes.h"
#include "proxy/capture/original_dst.h"
#include "proxy/gateway/passthrough_acceptor.h"
#include "proxy/gateway/tls_acceptor.h"
#include "proxy/http/http_connection.h"
#include "proxy/http/spare_buffers.h"
#include "proxy/inbound/inbound_acceptor.h"
#include "proxy/tcp/tcp_proxy.h"

namespace mesh::proxy {

Worker::Worker(unsigned index, const ProxyOptions& options, ProxyStats& stats,
               std::shared_ptr<const RuntimeConfig> config, core::Loop* shared)
    : index_(index),
      ownLoop_(shared ? nullptr : std::make_unique<core::Loop>()),
      loop_(shared ? *shared : *ownLoop_),
      context_(loop_, options, stats, 0x9e3779b97f4a7c15ull * (index + 1)),
      captureFamily_(stats.registry.counter("mesh_proxy_capture_connections_total",
                                            "Connections redirected to the capture listener, "
                                            "by what was done with them",
                                            {"destination"})) {
  wake_ = std::make_unique<core::Async>(loop_, [this] { runPosted(); });
  setConfig(std::move(config));
  inbound_ = std::make_unique<InboundAcceptor>(
      loop_, stats.registry, options.security, options.requestHeadersTimeoutMs,
      [this](std::unique_ptr<core::Stream> stream, const core::SocketAddress& peer,
             InboundRoute route) {
        if (route.protocol == "tcp") {
          if (!tcpAllowed(peer, route)) return;  // the stream closes as it goes out of scope
          auto session = std::make_unique<TcpProxySession>(
              context_, std::move(stream), peer, route.cluster, forgetTcp());
          return startTcpSession(std::move(session));
        }
        if (route.multiplexed) return startMux(std::move(stream), peer, std::move(route));
        startInboundHttp(std::move(stream), peer, route);
      });
  passthrough_ = std::make_unique<PassthroughAcceptor>(
      loop_, stats.registry, options.requestHeadersTimeoutMs,
      [this](std::unique_ptr<core::Stream> stream, const core::SocketAddress& peer,
             const std::string& cluster) {
        startTcpSession(std::make_unique<TcpProxySession>(
            context_, std::move(stream), peer, cluster, forgetTcp()));
      });
  gatewayTls_ = std::make_unique<GatewayTlsAcceptor>(
      loop_, stats.registry, options.requestHeadersTimeoutMs,
      [this](std::unique_ptr<core::Stream> stream, const core::SocketAddress& peer,
             const core::model::Listener& listener) {
        auto connection = std::make_unique<HttpConnection>(
            context_, std::move(stream), peer, listener.routeTable, listener.port,
            [this](HttpConnection& c) {
              auto it = http_.find(&c);
              if (it == http_.end()) return;
              core::deferredDelete(loop_, std::move(it->second));
              http_.erase(it);
            });
        connection->setScheme("https");
        connection->setGateway();
        startHttp(std::move(connection));
      });
}

Worker::~Worker() { join(); }

core::Status Worker::addListener(const core::model::Listener& listener,
                                 const core::SocketAddress& at) {
  if (capture::reachedOnlyThroughCapture(listener)) {
    LOG_DEBUG("worker", "listener ", listener.name, ": ", at.toString(),
              " is not a local address; served through the capture listener");
    return {};
  }
  auto tcp = std::make_unique<core::TcpListener>(loop_);
  std::string name = listener.name;
  core::Status s = tcp->listen(
      at, [this, name](std::unique_ptr<core::TcpStream> stream) { onAccept(name, std::move(stream)); },
      core::ListenOptions{.reusePort = true});
  if (!s.ok()) return s;
  listeners_[name] = std::move(tcp);
  return {};
}

void Worker::removeListener(const std::string& name) { listeners_.erase(name); }

void Worker::onAccept(const std::string& name, std::unique_ptr<core::TcpStream> stream) {
  const core::model::Listener* listener = context_.config ? context_.config->listener(name) : nullptr;
  if (!listener || context_.draining) return;  // the stream closes as it goes out of scope
  if (listener->direction == core::model::Listener::Direction::inbound) {
    inbound_->accept(*listener, std::move(stream));
    return;
  }
  if (listener->protocol == "tls") {
    // A PASSTHROUGH server: routed by the ClientHello's SNI, forwarded still encrypted.
    passthrough_->accept(*listener, std::move(stream));
    return;
  }
  if (listener->hasTls) {
    // A gateway server that terminates TLS: its context was built with the config.
    if (auto tls = context_.config->listenerTls(name)) {
      gatewayTls_->accept(*listener, std::move(tls), std::move(stream));
    }
    return;
  }
  if (listener->capture) {
    if (auto original = capture::redirectedFrom(*stream)) {
      onCaptured(*listener, *original, std::move(stream));
      return;
    }
  }
  if (listener->protocol == "tcp") {
    startTcp(std::move(stream), listener->cluster, {});
    return;
  }
  auto connection = std::make_unique<HttpConnection>(
      context_, std::move(stream), listener->routeTable, listener->port,
      [this](HttpConnection& c) {
        auto it = http_.find(&c);
        if (it == http_.end()) return;
        core::deferredDelete(loop_, std::move(it->second));
        http_.erase(it);
      });
  if (listener->direction == core::model::Listener::Direction::gateway) connection->setGateway();
  startHttp(std::move(connection));
}

// A connection iptables redirected to the capture listener: where it was going decides what
// it is (proxy/capture/capture_table.h), before any byte is read.
void Worker::onCaptured(const core::model::Listener& listener, const core::SocketAddress& original,
                        std::unique_ptr<core::TcpStream> stream) {
  capture::CaptureDecision decision = capture_.classify(original);
  captureCounter(decision.kind).inc();
  LOG_DEBUG("capture", stream->peerAddress().toString(), " -> ", original.toString(), ": ",
            capture::kindName(decision.kind));
  switch (decision.kind) {
    case capture::CaptureDecision::Kind::tcp:
      return startTcp(std::move(stream), decision.cluster, {});
    case capture::CaptureDecision::Kind::passthrough:
      return startTcp(std::move(stream), {}, original);
    case capture::CaptureDecision::Kind::refuse:
      LOG_INFO("capture", stream->peerAddress().toString(), " -> ", original.toString(),
               ": refused, not in the registry (REGISTRY_ONLY)");
      return;  // the stream closes as it goes out of scope
    case capture::CaptureDecision::Kind::http:
      break;
  }
  auto connection = std::make_unique<HttpConnection>(
      context_, std::move(stream), listener.routeTable, original.port(),
      [this](HttpConnection& c) {
        auto it = http_.find(&c);
        if (it == http_.end()) return;
        core::deferredDelete(loop_, std::move(it->second));
        http_.erase(it);
      });
  connection->setOriginalPort(original.port());
  startHttp(std::move(connection));
}

core::metrics::Counter& Worker::captureCounter(capture::CaptureDecision::Kind kind) {
  return captureFamily_.series({capture::kindName(kind)});
}

void Worker::startTcp(std::unique_ptr<core::TcpStream> stream, const std::string& cluster,
                      const core::SocketAddress& passthrough) {
  auto session = std::make_unique<TcpProxySession>(
      context_, std::move(stream), cluster, forgetTcp());
  if (!passthrough.empty()) session->passThroughTo(passthrough);
  startTcpSession(std::move(session));
}

// AuthorizationPolicy for an inbound TCP connection, once, before any byte goes to the app:
// Istio's TCP rules (principals, namespaces, ipBlocks, ports; HTTP-only fields never match).
bool Worker::tcpAllowed(const core::SocketAddress& peer, const InboundRoute& route) {
  if (!context_.config || context_.config->authz().empty()) return true;
  authz::Attributes a;
  a.http = false;
  a.principal = route.peerPrincipal;
  a.sourceIp = authz::IpAddress::parse(peer.ip());
  a.remoteIp = a.sourceIp;
  a.destinationPort = route.port;
  a.sni = route.serverName;
  authz::Decision d = context_.config->authz().check(a);
  if (d.allowed) return true;
  context_.stats.rbacDeniedTcp.inc();
  LOG_DEBUG("authz", "denied TCP to port ", route.port, " from ",
            route.peerPrincipal.empty() ? peer.ip() : route.peerPrincipal, " by ",
            d.policy.empty() ? std::string_view("no matching ALLOW policy") : d.policy);
  return false;
}

// What a TCP proxy session calls when it closes: the worker lets go of it.
std::function<void(TcpProxySession&)> Worker::forgetTcp() {
  return [this](TcpProxySession& s) {
    auto it = tcp_.find(&s);
    if (it == tcp_.end()) return;
    core::deferredDelete(loop_, std::move(it->second));
    tcp_.erase(it);
  };
}

void Worker::startTcpSession(std::unique_ptr<TcpProxySession> session) {
  TcpProxySession* raw = session.get();
  tcp_[raw] = std::move(session);
  raw->start();
}

void Worker::startInboundHttp(std::unique_ptr<core::Stream> stream, const core::SocketAddress& peer,
                              const InboundRoute& route) {
  auto connection = std::make_unique<HttpConnection>(
      context_, std::move(stream), peer, route.cluster, route.port, [this](HttpConnection& c) {
        auto it = http_.find(&c);
        if (it == http_.end()) return;
        core::deferredDelete(loop_, std::move(it->second));
        http_.erase(it);
      });
  connection->setForwardedClientCert(route.forwardedClientCert);
  connection->setPeerIdentity(route.peerPrincipal, route.serverName);
  startHttp(std::move(connection));
}

// A calling sidecar's shared connection: each stream it opens is served as an inbound HTTP
// connection with the route (and peer identity) of the connection that carries it.
void Worker::startMux(std::unique_ptr<core::Stream> stream, const core::SocketAddress& peer,
                      InboundRoute route) {
  auto session = mux::Session::server(
      loop_, std::move(stream), std::chrono::milliseconds(context_.options.idleTimeoutMs),
      [this, peer, route = std::move(route)](std::unique_ptr<core::Stream> s) {
        startInboundHttp(std::move(s), peer, route);
      });
  mux::Session* raw = session.get();
  if (!session->isOpen()) return;
  session->setOnClosed([this, raw] { mux_.erase(raw); });
  mux_[raw] = std::move(session);
}

void Worker::startHttp(std::unique_ptr<HttpConnection> connection) {
  HttpConnection* raw = connection.get();
  http_[raw] = std::move(connection);
  raw->start();
}

void Worker::start() {
  if (!ownLoop_) return;  // the main thread runs the loop, and trims its heap
  trimmer_.setRelease(releaseSpareBuffers);
  trimmer_.every(std::chrono::seconds(2));
  thread_ = std::thread([this] {
    loop_.run();
    LOG_DEBUG("worker", "worker ", index_, " stopped");
  });
}

void Worker::post(std::function<void()> task) {
  if (!ownLoop_) return task();  // already on the one thread
  {
    std::lock_guard lock(mutex_);
    posted_.push_back(std::move(task));
  }
  wake_->send();
}

void Worker::runPosted() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lock(mutex_);
    tasks.swap(posted_);
  }
  for (auto& task : tasks) task();
}

void Worker::setConfig(std::shared_ptr<const RuntimeConfig> config) {
  context_.config = std::move(config);
  if (context_.config) context_.clusters.update(*context_.config);
  if (context_.config) capture_.update(context_.config->snapshot());
}

void Worker::drain() {
  context_.draining = true;
  listeners_.clear();
  inbound_->closeAll();
  gatewayTls_->closeAll();
  passthrough_->closeAll();
  // Copy: closing an idle connection removes it from the map.
  std::vector<HttpConnection*> connections;
  for (auto& [raw, owned] : http_) connections.push_back(raw);
  for (auto* c : connections) c->drain();
  for (auto& [raw, session] : mux_) session->goAway();
  context_.clusters.closeIdle();
}

void Worker::stop() {
  context_.draining = true;
  listeners_.clear();
  inbound_->closeAll();
  gatewayTls_->closeAll();
  passthrough_->closeAll();
  std::vector<HttpConnection*> connections;
  for (auto& [raw, owned] : http_) connections.push_back(raw);
  for (auto* c : connections) c->closeNow();
  std::vector<std::shared_ptr<mux::Session>> shared;
  for (auto& [raw, session] : mux_) shared.push_back(session);
  for (auto& session : shared) session->close();
  std::vector<TcpProxySession*> sessions;
  for (auto& [raw, owned] : tcp_) sessions.push_back(raw);
  for (auto* s : sessions) s->close();
  context_.clusters.clear();
  context_.config.reset();
  wake_.reset();  // the last handle of ours: the loop ends once the others finish closing
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace mesh::proxy
