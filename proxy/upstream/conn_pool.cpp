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
  if (cluster_->config().tls.mode != core::model::UpstreamTls::Mode::disable) {
    UpstreamTlsTarget none;
    none.error = core::error(core::Code::unavailable, "TLS is not set up in this proxy");
    connection->setTls(security_ ? security_->upstream(cluster_->config(), host_.config) : none);
  }
  UpstreamConnection& raw = *connection;
  connecting_.push_back(std::move(connection));
  // The pool outlives its connections' callbacks: it owns them and they close with it.
  raw.connect(std::chrono::milliseconds(cluster_->config().pool.connectTimeoutMs),
              [this](UpstreamConnection& c, core::Status status) { onConnected(c, status); });
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
