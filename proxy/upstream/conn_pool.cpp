#include "proxy/upstream/conn_pool.h"

#include <algorithm>

#include "core/base/log.h"

namespace mesh::proxy {

using Resource = CircuitBreaker::Resource;

ConnPool::ConnPool(core::Loop& loop, std::shared_ptr<const ClusterInfo> cluster, Host& host,
                   std::shared_ptr<const TransportSecurity> security)
    : loop_(loop), cluster_(std::move(cluster)), host_(host), security_(std::move(security)) {}

ConnPool::~ConnPool() = default;

void ConnPool::request(Callbacks& callbacks) {
  while (!idle_.empty()) {
    auto connection = std::move(idle_.back());
    idle_.pop_back();
    if (connection->reusable()) {
      callbacks.onPoolReady(std::move(connection));
      return;
    }
    core::deferredDelete(loop_, std::move(connection));
  }
  auto slot = cluster_->breaker().tryAcquire(Resource::pendingRequests);
  if (!slot) {
    callbacks.onPoolFailure(PoolFailure::overflow, "too many requests waiting for a connection");
    return;
  }
  pending_.push_back(Pending{&callbacks, std::move(slot)});
  // A new connection per waiting request, within maxConnections; otherwise the request
  // waits for one to come back.
  if (connecting_.size() < pending_.size()) connectNew();
}

void ConnPool::cancel(Callbacks& callbacks) {
  pending_.remove_if([&](const Pending& p) { return p.callbacks == &callbacks; });
}

void ConnPool::connectNew() {
  auto slot = cluster_->breaker().tryAcquire(Resource::connections);
  if (!slot) return;  // at maxConnections: pending requests wait for a release
  auto connection = std::make_unique<UpstreamConnection>(loop_, cluster_, host_, std::move(slot));
  UpstreamConnection& raw = *connection;
  connecting_.push_back(std::move(connection));
  if (cluster_->config().tls.mode != core::model::UpstreamTls::Mode::disable) {
    UpstreamTlsTarget none;
    none.error = core::error(core::Code::unavailable, "TLS is not set up in this proxy");
    auto target = security_ ? security_->upstream(cluster_->config(), host_.config) : none;
    if (multiplexes(target)) {
      raw.awaitStream();
      if (session_ && session_->acceptsStreams()) return handOutStreams();
      if (!dial_) startSession(target);
      return;
    }
    raw.setTls(std::move(target));
  }
  // The pool outlives its connections' callbacks: it owns them and they close with it.
  raw.connect(std::chrono::milliseconds(cluster_->config().pool.connectTimeoutMs),
              [this](UpstreamConnection& c, core::Status status) { onConnected(c, status); });
}

bool ConnPool::multiplexes(const UpstreamTlsTarget& target) const {
  return !peerDeclinedMux_ && target.error.ok() && target.context &&
         cluster_->config().tls.mode == core::model::UpstreamTls::Mode::istio_mutual;
}

void ConnPool::startSession(const UpstreamTlsTarget& target) {
  session_.reset();  // one that is closed or full goes on alone with its streams
  // The mux id first; a peer that declines it picks one of the HTTP/1.1 ids.
  UpstreamTlsTarget offer = target;
  std::vector<std::string> alpn{std::string(kMeshMuxAlpn)};
  for (auto& id : meshAlpnProtocols()) alpn.push_back(id);
  offer.session.alpn = std::move(alpn);
  dial_ = std::make_unique<Dial>(
      loop_, host_.address, &offer,
      std::chrono::milliseconds(cluster_->config().pool.connectTimeoutMs),
      [this](core::Status status, std::unique_ptr<core::Stream> stream, std::string_view alpn) {
        onDialed(status, std::move(stream), alpn);
      });
}

std::vector<UpstreamConnection*> ConnPool::awaitingStreams() const {
  std::vector<UpstreamConnection*> waiting;
  for (const auto& c : connecting_)
    if (c->awaitingStream()) waiting.push_back(c.get());
  return waiting;
}

void ConnPool::onDialed(core::Status status, std::unique_ptr<core::Stream> tls,
                        std::string_view alpn) {
  core::deferredDelete(loop_, std::move(dial_));  // we are inside its callback
  auto keepAlive = shared_from_this();  // the callbacks below may drop the last reference
  auto waiting = awaitingStreams();
  if (status.ok() && alpn != kMeshMuxAlpn) {
    // The peer serves one exchange at a time per connection: this one goes to the first
    // waiting connection, the others dial their own.
    peerDeclinedMux_ = true;
    LOG_DEBUG("pool", host_.address.toString(), " does not multiplex (ALPN \"", alpn,
              "\"): one connection per exchange");
    for (std::size_t i = 0; i < waiting.size(); ++i) {
      UpstreamConnection* c = waiting[i];
      if (i == 0) {
        c->adopt(std::move(tls));
        onConnected(*c, {});
        continue;
      }
      c->setTls(security_->upstream(cluster_->config(), host_.config));
      c->connect(std::chrono::milliseconds(cluster_->config().pool.connectTimeoutMs),
                 [this](UpstreamConnection& conn, core::Status s) { onConnected(conn, s); });
    }
    return;
  }
  if (!status.ok()) {
    // Each waiting connection fails, and takes one waiting request with it, as its own
    // connect would have.
    for (UpstreamConnection* c : waiting) onConnected(*c, status);
    return;
  }
  session_ = mux::Session::client(loop_, std::move(tls));
  handOutStreams();
}

void ConnPool::handOutStreams() {
  // One at a time: a connection handed out may bring a request that makes the pool open
  // (and hand out) more.
  for (;;) {
    auto waiting = awaitingStreams();
    if (waiting.empty()) return;
    UpstreamConnection* c = waiting.front();
    auto stream = session_ ? session_->open() : nullptr;
    if (!stream) {
      // Closed, or full: the rest wait for a new shared connection.
      if (!dial_) {
        UpstreamTlsTarget target = security_->upstream(cluster_->config(), host_.config);
        if (!multiplexes(target)) {
          // The certificate went away since: fail as a connect would.
          for (UpstreamConnection* w : awaitingStreams())
            onConnected(*w, target.error.ok() ? core::error(core::Code::unavailable, "no TLS")
                                              : target.error);
          return;
        }
        startSession(target);
      }
      return;
    }
    c->adopt(std::move(stream));
    onConnected(*c, {});
  }
}

std::unique_ptr<UpstreamConnection> ConnPool::takeConnecting(UpstreamConnection& connection) {
  auto it = std::find_if(connecting_.begin(), connecting_.end(),
                         [&](const auto& c) { return c.get() == &connection; });
  if (it == connecting_.end()) return nullptr;
  auto owned = std::move(*it);
  connecting_.erase(it);
  return owned;
}

void ConnPool::onConnected(UpstreamConnection& connection, core::Status status) {
  auto owned = takeConnecting(connection);
  if (!owned) return;
  if (status.ok()) {
    serve(std::move(owned));
    return;
  }
  host_.connectFailures.fetch_add(1, std::memory_order_relaxed);
  core::deferredDelete(loop_, std::move(owned));
  if (pending_.empty()) return;
  Pending first = std::move(pending_.front());
  pending_.pop_front();
  first.slot.reset();
  auto failure = status.code() == core::Code::timeout ? PoolFailure::connectTimeout
                                                      : PoolFailure::connectFailure;
  auto keepAlive = shared_from_this();  // the callback may drop the last reference
  first.callbacks->onPoolFailure(failure, "connect to " + host_.address.toString() + ": " +
                                              status.message());
  if (!pending_.empty() && connecting_.size() < pending_.size()) connectNew();
}

void ConnPool::serve(std::unique_ptr<UpstreamConnection> connection) {
  if (pending_.empty()) {
    UpstreamConnection* raw = connection.get();
    raw->setIdle([this, raw] {
      auto it = std::find_if(idle_.begin(), idle_.end(),
                             [&](const auto& c) { return c.get() == raw; });
      if (it == idle_.end()) return;
      auto dead = std::move(*it);
      idle_.erase(it);
      core::deferredDelete(loop_, std::move(dead));
    }, std::chrono::milliseconds(cluster_->config().pool.idleTimeoutMs));
    idle_.push_back(std::move(connection));
    return;
  }
  Pending first = std::move(pending_.front());
  pending_.pop_front();
  first.slot.reset();
  first.callbacks->onPoolReady(std::move(connection));
}

void ConnPool::release(std::unique_ptr<UpstreamConnection> connection) {
  if (!connection) return;
  connection->detach();
  uint32_t maxRequests = cluster_->config().pool.maxRequestsPerConnection;
  bool reuse = connection->reusable() &&
               (maxRequests == 0 || connection->requestsServed() < maxRequests);
  if (!reuse) {
    connection->close();
    connection->dropSlot();
    core::deferredDelete(loop_, std::move(connection));
    // Its maxConnections slot is free now, so a waiting request may connect.
    if (!pending_.empty() && connecting_.size() < pending_.size()) connectNew();
    return;
  }
  serve(std::move(connection));
}

void ConnPool::closeIdle() {
  for (auto& c : idle_) {
    c->close();
    core::deferredDelete(loop_, std::move(c));
  }
  idle_.clear();
}

}  // namespace mesh::proxy
