#include "proxy/gateway/passthrough_acceptor.h"

#include "core/base/log.h"
#include "core/loop/timer.h"
#include "proxy/gateway/client_hello.h"
#include "proxy/inbound/replay_stream.h"

namespace mesh::proxy {

namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

bool sniMatches(std::string_view pattern, std::string_view name) {
  if (pattern == "*") return true;
  if (name.empty()) return false;
  if (pattern.size() > 1 && pattern[0] == '*' && pattern[1] == '.') {
    std::string_view suffix = pattern.substr(1);  // ".example.com"
    return name.size() > suffix.size() &&
           equalsIgnoringCase(name.substr(name.size() - suffix.size()), suffix);
  }
  return equalsIgnoringCase(pattern, name);
}

}  // namespace

const core::model::SniRoute* findSniRoute(const core::model::Listener& listener,
                                          std::string_view serverName) {
  for (const auto& route : listener.sniRoutes)
    for (const auto& pattern : route.sniHosts)
      if (sniMatches(pattern, serverName)) return &route;
  return nullptr;
}

// One connection until its ClientHello is read.
class PassthroughAcceptor::Pending final : private core::StreamSink {
 public:
  Pending(PassthroughAcceptor& owner, const core::model::Listener& listener,
          std::unique_ptr<core::TcpStream> tcp)
      : owner_(owner),
        listener_(listener),
        peer_(tcp->peerAddress()),
        tcp_(std::move(tcp)),
        timer_(owner.loop_) {}

  void start() {
    tcp_->setNoDelay(true);
    timer_.start(std::chrono::milliseconds(owner_.timeoutMs_),
                 [this] { refuse("timeout", "no whole ClientHello in time"); });
    if (core::Status s = tcp_->startReading(*this); !s.ok()) refuse("not_tls", s.message());
  }

  void close() {
    timer_.stop();
    if (tcp_) tcp_->close();
  }

 private:
  void onData(core::ByteView data) override {
    read_.append(data.data(), data.size());
    ClientHelloSni hello = readClientHelloSni(read_);
    if (hello.state == ClientHelloSni::State::more) return;
    if (hello.state == ClientHelloSni::State::notTls) return refuse("not_tls", hello.error);
    const core::model::SniRoute* route = findSniRoute(listener_, hello.serverName);
    if (!route) {
      return refuse("no_route", "no route for server name \"" + hello.serverName + "\"");
    }
    LOG_DEBUG("gateway", peer_.toString(), " on ", listener_.name, ": TLS for \"",
              hello.serverName, "\" passes through to ", route->cluster);
    tcp_->stopReading();
    auto ready = owner_.ready_;
    std::unique_ptr<core::Stream> stream =
        std::make_unique<ReplayStream>(std::move(tcp_), std::move(read_));
    core::SocketAddress peer = peer_;
    std::string cluster = route->cluster;
    done();  // this object is deleted on the next turn; nothing below touches it
    ready(std::move(stream), peer, cluster);
  }
  void onEof() override { refuse("not_tls", "closed before a whole ClientHello"); }
  void onError(const core::Status& status) override { refuse("not_tls", status.message()); }

  void refuse(const std::string& reason, const std::string& why) {
    LOG_INFO("gateway", peer_.toString(), " on ", listener_.name, ": passthrough refused: ", why);
    owner_.refusals_.series({reason}).inc();
    close();
    done();
  }

  void done() {
    timer_.stop();
    owner_.pending_.finish(*this);
  }

  PassthroughAcceptor& owner_;
  const core::model::Listener listener_;
  core::SocketAddress peer_;
  std::unique_ptr<core::TcpStream> tcp_;
  std::string read_;  // the client's bytes so far: replayed to the backend
  core::Timer timer_;
};

PassthroughAcceptor::PassthroughAcceptor(core::Loop& loop, core::metrics::Registry& registry,
                                         uint32_t timeoutMs, Ready ready)
    : loop_(loop),
      refusals_(registry.counter("mesh_proxy_gateway_passthrough_refusals_total",
                                 "Connections to gateway PASSTHROUGH listeners refused before "
                                 "forwarding, by reason",
                                 {"reason"})),
      timeoutMs_(timeoutMs),
      ready_(std::move(ready)),
      pending_(loop) {}

PassthroughAcceptor::~PassthroughAcceptor() = default;

void PassthroughAcceptor::closeAll() { pending_.closeAll(); }

void PassthroughAcceptor::accept(const core::model::Listener& listener,
                                 std::unique_ptr<core::TcpStream> stream) {
  auto pending = std::make_unique<Pending>(*this, listener, std::move(stream));
  pending_.add(std::move(pending)).start();
}



}  // namespace mesh::proxy
