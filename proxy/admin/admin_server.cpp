#include "proxy/admin/admin_server.h"

#include "core/base/log.h"
#include "core/http/parser.h"

namespace mesh::proxy {

class AdminServer::Connection final : private core::StreamSink,
                                      private core::http::RequestHandler {
 public:
  Connection(AdminServer& server, std::unique_ptr<core::TcpStream> stream)
      : server_(server),
        stream_(std::move(stream)),
        timer_(server.loop_),
        parser_(static_cast<core::http::RequestHandler&>(*this)) {}

  void start() {
    // An admin client gets a few seconds to send its request.
    timer_.start(std::chrono::seconds(10), [this] { finish(); });
    if (!stream_->startReading(*this).ok()) finish();
  }

 private:
  void onData(core::ByteView data) override {
    if (answered_) return;
    auto result = parser_.feed(data.data(), data.size());
    if (result.status == core::http::ParseStatus::error && !answered_) {
      reply(parser_.error().status, std::string(parser_.error().reason) + "\n", "text/plain");
    }
  }
  void onEof() override { finish(); }
  void onError(const core::Status&) override { finish(); }

  core::http::Flow onHead(core::http::RequestHead& head) override {
    request_.method = std::string(head.methodName);
    std::string_view target = head.target;
    size_t q = target.find('?');
    request_.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) {
      std::string_view query = target.substr(q + 1);
      while (!query.empty()) {
        size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        size_t eq = pair.find('=');
        request_.query[std::string(pair.substr(0, eq))] =
            eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1));
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
      }
    }
    return core::http::Flow::proceed;
  }
  void onBody(std::string_view) override {}
  core::http::Flow onMessageComplete(const core::http::HeaderMap&) override {
    AdminResponse response = server_.handler_(request_);
    reply(response.status, response.body, response.contentType);
    return core::http::Flow::pause;
  }

  void reply(int status, const std::string& body, const std::string& type) {
    answered_ = true;
    std::string out = core::http::localReply(
        {.status = status, .body = body, .contentType = type, .close = true});
    stream_->write(std::move(out), [this](core::Status) { finish(); });
  }

  void finish() {
    if (done_) return;
    done_ = true;
    stream_->close();
    server_.onClosed(this);
  }

  AdminServer& server_;
  AdminRequest request_;
  bool answered_ = false;
  bool done_ = false;
  std::unique_ptr<core::TcpStream> stream_;
  core::Timer timer_;
  core::http::RequestParser parser_;
};

AdminServer::AdminServer(core::Loop& loop, Handler handler)
    : loop_(loop), handler_(std::move(handler)), listener_(loop) {}

AdminServer::~AdminServer() = default;

core::Status AdminServer::listen(const core::SocketAddress& address) {
  return listener_.listen(address, [this](std::unique_ptr<core::TcpStream> stream) {
    auto connection = std::make_unique<Connection>(*this, std::move(stream));
    Connection* raw = connection.get();
    connections_[raw] = std::move(connection);
    raw->start();
  });
}

void AdminServer::onClosed(Connection* connection) {
  auto it = connections_.find(connection);
  if (it == connections_.end()) return;
  core::deferredDelete(loop_, std::move(it->second));
  connections_.erase(it);
}

void AdminServer::close() {
  listener_.close();
  for (auto& [raw, connection] : connections_) core::deferredDelete(loop_, std::move(connection));
  connections_.clear();
}

}  // namespace mesh::proxy
