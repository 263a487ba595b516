#include "core/admin/admin_server.h"

#include "core/base/log.h"
#include "core/http/parser.h"
#include "core/http/serializer.h"
#include "core/loop/timer.h"

namespace mesh::core {

namespace {
// An admin request is a request line and a few headers.
http::ParserLimits adminLimits() {
  http::ParserLimits limits;
  limits.maxHeaderBytes = 16 * 1024;
  limits.maxUrlBytes = 4 * 1024;
  limits.maxBodyBytes = 64 * 1024;
  return limits;
}
}  // namespace

class AdminServer::Connection final : private StreamSink, private http::RequestHandler {
 public:
  Connection(AdminServer& server, std::unique_ptr<TcpStream> stream)
      : server_(server),
        timer_(server.loop_),
        parser_(*this, adminLimits()),
        stream_(std::move(stream)) {}

  Status start() {
    armIdle();
    return stream_->startReading(*this);
  }

 private:
  void armIdle() {
    timer_.start(server_.idleTimeout_, [this] { server_.remove(this); });
  }

  // RequestHandler: answer once the request is complete, pausing the parser there.
  http::Flow onHead(http::RequestHead&) override { return http::Flow::proceed; }
  void onBody(std::string_view) override {}
  http::Flow onMessageComplete(const http::HeaderMap&) override {
    const http::RequestHead& head = parser_.head();
    std::string_view target = head.target;
    size_t q = target.find('?');
    AdminRequest request{head.methodName, target.substr(0, q),
                         q == std::string_view::npos ? std::string_view() : target.substr(q + 1)};
    AdminResponse response = server_.dispatch(request);
    bool close = !head.keepAlive;
    http::LocalReply reply;
    reply.status = response.status;
    reply.body = response.body;
    reply.contentType = response.contentType;
    reply.close = close;
    reply.headRequest = head.method == http::Method::head;
    (void)stream_->write(http::localReply(reply), nullptr);
    closeAfterWrite_ = close;
    return http::Flow::pause;
  }

  void onData(ByteView data) override {
    armIdle();
    std::string_view rest(data.data(), data.size());
    for (;;) {
      http::ParseResult result = parser_.feed(rest);
      if (result.status == http::ParseStatus::error) return refuse(parser_.error());
      if (closeAfterWrite_ || result.status == http::ParseStatus::closed ||
          result.status == http::ParseStatus::upgrade)
        return finishAfterWrites();
      if (result.status != http::ParseStatus::paused) return;
      rest = rest.substr(result.consumed);
    }
  }

  void refuse(const http::ParseError& error) {
    LOG_DEBUG("admin", stream_->peerAddress().toString(), ": bad request: ", error.reason);
    http::LocalReply reply;
    reply.status = error.status;
    reply.body = error.reason;
    reply.close = true;
    (void)stream_->write(http::localReply(reply), nullptr);
    finishAfterWrites();
  }

  // Half-closes after the answer went out; the peer's close (EOF) ends the connection.
  void finishAfterWrites() {
    stream_->stopReading();
    Status s = stream_->shutdown([this](Status) { server_.remove(this); });
    if (!s) server_.remove(this);
  }

  void onEof() override { server_.remove(this); }
  void onError(const Status&) override { server_.remove(this); }

  AdminServer& server_;
  Timer timer_;
  http::RequestParser parser_;
  bool closeAfterWrite_ = false;
  std::unique_ptr<TcpStream> stream_;
};

AdminServer::AdminServer(Loop& loop, std::chrono::milliseconds idleTimeout)
    : loop_(loop), idleTimeout_(idleTimeout), listener_(loop) {}

AdminServer::~AdminServer() { close(); }

void AdminServer::route(std::string path, Handler handler) {
  routes_[std::move(path)] = std::move(handler);
}

Status AdminServer::listen(const SocketAddress& address) {
  return listener_.listen(address, [this](std::unique_ptr<TcpStream> stream) {
    auto connection = std::make_unique<Connection>(*this, std::move(stream));
    Connection* raw = connection.get();
    connections_.emplace(raw, std::move(connection));
    if (!raw->start().ok()) remove(raw);
  });
}

void AdminServer::close() {
  listener_.close();
  for (auto& [raw, connection] : connections_) deferredDelete(loop_, std::move(connection));
  connections_.clear();
}

AdminResponse AdminServer::dispatch(const AdminRequest& request) const {
  auto it = routes_.find(request.path);
  if (it == routes_.end()) return {404, "not found\n"};
  if (request.method != "GET" && request.method != "HEAD") return {405, "method not allowed\n"};
  return it->second(request);
}

void AdminServer::remove(Connection* connection) {
  auto it = connections_.find(connection);
  if (it == connections_.end()) return;
  deferredDelete(loop_, std::move(it->second));
  connections_.erase(it);
}

}  // namespace mesh::core
