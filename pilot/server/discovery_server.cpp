#include "pilot/server/discovery_server.h"

#include "core/base/log.h"
#include "core/proto/connection.h"
#include "core/tls/tls_stream.h"
#include "pilot/server/hello.h"

namespace mesh::pilot {

using core::Status;
using nlohmann::json;

// One proxy connection: TLS handshake (with a deadline), hello (with a deadline), then acks.
class DiscoveryServer::Connection final : private core::FramedConnection::Handler {
 public:
  Connection(DiscoveryServer& server, std::unique_ptr<core::TlsStream> tls, std::string peer)
      : server_(server), peer_(std::move(peer)), timer_(server.loop_), tls_(std::move(tls)) {}

  // Leaves the Pusher now; the object itself may be deleted later (deferredDelete).
  void detach() {
    if (proxyId_) server_.pusher_.disconnect(proxyId_);
    proxyId_ = 0;
    detached_ = true;
    timer_.stop();
  }

  Status start() {
    timer_.start(server_.options_.handshakeTimeout, [this] { refuse("handshake_timeout", "TLS handshake timed out"); });
    return tls_->handshake([this](Status s) { onHandshake(s); });
  }

  // Keepalive: called every interval; true when the peer has been silent for three. A peer
  // quiet for an interval is pinged, so a proxy that pings less often than pilot's interval
  // answers with a pong and is not taken for dead.
  bool silent() {
    std::uint64_t frames = framed_ ? framed_->framesReceived() : 0;
    silentTicks_ = frames == framesAtTick_ ? silentTicks_ + 1 : 0;
    framesAtTick_ = frames;
    if (silentTicks_ >= 1 && silentTicks_ < 3 && framed_) (void)framed_->send({{"type", "ping"}});
    return silentTicks_ >= 3;
  }

  void drop(const Status& why) {
    if (framed_) {
      framed_->fail(why);  // onClosed removes us
    } else {
      server_.remove(this);
    }
  }

  const std::string& node() const { return node_; }

 private:
  void onHandshake(const Status& status) {
    timer_.stop();
    if (refused_) return;
    if (!status.ok()) return refuse("tls", status.message());
    auto id = tls_->peerId();
    if (!id) return refuse("no_identity", "peer presented no SPIFFE identity");
    peerId_ = *id;
    core::FramedConnection::Handler& handler = *this;
    framed_ = std::make_unique<core::FramedConnection>(std::move(tls_), handler,
                                                       server_.options_.maxFrameBytes);
    if (Status s = framed_->start(); !s) {
      LOG_WARN("pilot", peer_, ": ", s.toString());
      server_.remove(this);
      return;
    }
    timer_.start(server_.options_.helloTimeout, [this] {
      server_.refuse("hello_timeout");
      framed_->fail(core::error(core::Code::timeout, "no hello within the deadline"));
    });
  }

  void refuse(const char* reason, const std::string& detail) {
    if (refused_) return;
    refused_ = true;
    LOG_WARN("pilot", "refused ", peer_, ": ", detail);
    server_.refuse(reason);
    server_.remove(this);
  }

  void onMessage(core::FramedConnection& connection, json&& message) override {
    if (detached_) return;
    const std::string& type = message["type"].get_ref<const std::string&>();
    if (type == "hello") return onHello(connection, message);
    if (!proxyId_) {
      server_.refuse("no_hello");
      return connection.fail(core::error(core::Code::invalid, "the first message must be hello"));
    }
    if (type == "ack" || type == "nack") {
      auto version = message.find("version");
      if (version == message.end() || !version->is_string()) {
        (void)connection.send(core::errorMessage(core::error(core::Code::invalid, type + ": version must be a string")));
        return;
      }
      if (type == "ack") return server_.pusher_.ack(proxyId_, *version);
      auto reason = message.find("reason");
      std::string why = reason != message.end() && reason->is_string() ? reason->get<std::string>() : "";
      if (why.size() > 4096) why.resize(4096);
      return server_.pusher_.nack(proxyId_, *version, why);
    }
    if (type == "pong") return;
    (void)connection.send(core::errorMessage(
        core::error(core::Code::invalid, "unknown message type '" + type.substr(0, 64) + "'")));
  }

  void onHello(core::FramedConnection& connection, const json& message) {
    if (proxyId_) {
      (void)connection.send(core::errorMessage(core::error(core::Code::invalid, "hello was already said")));
      return;
    }
    timer_.stop();
    auto hello = parseHello(message, *peerId_);
    if (!hello) {
      server_.refuse(hello.status().code() == core::Code::denied ? "identity_mismatch" : "bad_hello");
      LOG_WARN("pilot", "refused ", peer_, ": ", hello.status().toString());
      return connection.fail(hello.status());
    }
    node_ = hello->proxy.node;
    server_.adopt(this);
    LOG_INFO("pilot", "proxy ", node_, " (", peerId_->toString(), ") connected from ", peer_);
    core::FramedConnection* framed = framed_.get();
    proxyId_ = server_.pusher_.connect(
        std::move(hello->proxy), hello->delta, hello->serving,
        [framed, alive = std::weak_ptr<bool>(alive_)](std::string frame, std::function<void()> written) {
          if (alive.expired() || !framed->isOpen()) return false;
          // core/tls gives back the buffers a large write used once it is on the wire, so
          // a snapshot of any size is written whole.
          return framed->stream()
              .write(std::move(frame), [written = std::move(written)](Status) { written(); })
              .ok();
        });
  }

  void onClosed(core::FramedConnection&, const Status& why) override {
    if (!why.ok()) LOG_INFO("pilot", "proxy ", node_.empty() ? peer_ : node_, " closed: ", why.toString());
    if (why.code() == core::Code::too_large) server_.refuse("frame_too_large");
    if (why.code() == core::Code::invalid && !proxyId_) server_.refuse("malformed_frame");
    server_.remove(this);
  }

  friend class DiscoveryServer;
  DiscoveryServer& server_;
  std::string peer_;
  std::string node_;
  bool refused_ = false;
  bool detached_ = false;
  std::optional<core::SpiffeId> peerId_;
  std::uint64_t proxyId_ = 0;
  int silentTicks_ = 0;
  std::uint64_t framesAtTick_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  core::Timer timer_;
  std::unique_ptr<core::TlsStream> tls_;            // until the handshake completes
  std::unique_ptr<core::FramedConnection> framed_;  // then the stream lives here
};

DiscoveryServer::DiscoveryServer(core::Loop& loop, std::shared_ptr<core::TlsContext> tls,
                                 Pusher& pusher, PushMetrics& metrics,
                                 DiscoveryServerOptions options)
    : loop_(loop),
      tls_(std::move(tls)),
      pusher_(pusher),
      metrics_(metrics),
      options_(options),
      listener_(loop),
      keepalive_(loop) {}

DiscoveryServer::~DiscoveryServer() { stop(); }

Status DiscoveryServer::start() {
  if (Status s = listener_.listen(options_.listen,
                                  [this](std::unique_ptr<core::TcpStream> tcp) { onAccept(std::move(tcp)); });
      !s) {
    return s;
  }
  keepalive_.startRepeating(options_.keepalive, [this] { onKeepaliveTick(); });
  LOG_INFO("pilot", "serving proxies on ", listener_.localAddress().toString());
  return {};
}

void DiscoveryServer::stop() {
  listener_.close();
  keepalive_.stop();
  byNode_.clear();
  for (auto& [raw, connection] : connections_) {
    raw->detach();
    core::deferredDelete(loop_, std::move(connection));
  }
  connections_.clear();
}

void DiscoveryServer::onAccept(std::unique_ptr<core::TcpStream> tcp) {
  std::string peer = tcp->peerAddress().toString();
  (void)tcp->setNoDelay(true);
  auto tls = core::TlsStream::server(std::move(tcp), *tls_);
  if (!tls) {
    LOG_WARN("pilot", peer, ": ", tls.status().toString());
    refuse("tls");
    return;
  }
  auto connection = std::make_unique<Connection>(*this, std::move(*tls), peer);
  Connection* raw = connection.get();
  connections_[raw] = std::move(connection);
  if (Status s = raw->start(); !s) {
    LOG_WARN("pilot", peer, ": ", s.toString());
    remove(raw);
  }
}

void DiscoveryServer::adopt(Connection* connection) {
  auto it = byNode_.find(connection->node());
  if (it != byNode_.end() && it->second != connection) {
    LOG_INFO("pilot", "proxy ", connection->node(), " reconnected; closing its old connection");
    it->second->drop(core::error(core::Code::unavailable, "replaced by a newer connection"));
  }
  byNode_[connection->node()] = connection;
}

void DiscoveryServer::remove(Connection* connection) {
  auto node = byNode_.find(connection->node());
  if (node != byNode_.end() && node->second == connection) byNode_.erase(node);
  auto it = connections_.find(connection);
  if (it == connections_.end()) return;
  connection->detach();
  core::deferredDelete(loop_, std::move(it->second));
  connections_.erase(it);
}

void DiscoveryServer::onKeepaliveTick() {
  std::vector<Connection*> silent;
  for (auto& [raw, connection] : connections_) {
    if (raw->silent()) silent.push_back(raw);
  }
  for (Connection* c : silent) {
    LOG_WARN("pilot", "dropping silent proxy ", c->node().empty() ? c->peer_ : c->node());
    refuse("silent");
    c->drop(core::error(core::Code::timeout, "nothing received for three keepalive intervals"));
  }
}

void DiscoveryServer::refuse(const char* reason) { metrics_.refusals.series({reason}).inc(); }

}  // namespace mesh::pilot
