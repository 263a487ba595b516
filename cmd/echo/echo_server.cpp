#include "cmd/echo/echo_server.h"

#include "core/base/log.h"
#include "core/http/parser.h"
#include "core/http/serializer.h"
#include "core/loop/timer.h"

namespace mesh::cmd::echo {

namespace {

core::http::ParserLimits requestLimits() {
  core::http::ParserLimits limits;
  limits.maxBodyBytes = 1 << 20;  // read and dropped: the app answers the same whatever the body
  return limits;
}

// Bytes a client may send ahead while its previous request is being answered.
constexpr std::size_t kMaxPendingBytes = 1 << 20;

std::string dumpJson(const nlohmann::json& j) {
  // Header values may hold bytes that are not UTF-8; replace them rather than throw.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace

class EchoServer::Connection final : private core::StreamSink, private core::http::RequestHandler {
 public:
  Connection(EchoServer& server, std::unique_ptr<core::TcpStream> stream)
      : server_(server),
        timer_(server.loop_),
        parser_(*this, requestLimits()),
        stream_(std::move(stream)) {}

  core::Status start() { return stream_->startReading(*this); }

 private:
  // The request being answered, copied out of the parser.
  struct Exchange {
    IncomingRequest request;
    std::vector<std::pair<std::string, std::string>> propagated;
    bool keepAlive = true;
    bool head = false;
    std::size_t nextCall = 0;
    std::vector<CallOutcome> calls;
  };

  core::http::Flow onHead(core::http::RequestHead&) override { return core::http::Flow::proceed; }
  void onBody(std::string_view) override {}
  core::http::Flow onMessageComplete(const core::http::HeaderMap&) override {
    const core::http::RequestHead& head = parser_.head();
    exchange_ = Exchange{};
    IncomingRequest& r = exchange_.request;
    r.method = std::string(head.methodName);
    r.target = std::string(head.target);
    r.host = std::string(head.headers.get("host").value_or(""));
    r.xfcc = std::string(head.headers.get("x-forwarded-client-cert").value_or(""));
    r.requestId = std::string(head.headers.get("x-request-id").value_or(""));
    for (std::string_view name : propagatedHeaders()) {
      head.headers.forEach(name, [&](std::string_view value) {
        exchange_.propagated.emplace_back(std::string(name), std::string(value));
      });
    }
    exchange_.keepAlive = head.keepAlive;
    exchange_.head = head.method == core::http::Method::head;
    requestReady_ = true;
    return core::http::Flow::pause;
  }

  void onData(core::ByteView data) override {
    if (busy_ && pending_.size() + data.size() > kMaxPendingBytes) return server_.remove(this);
    pending_.append(data.data(), data.size());
    pump();
  }
  void onEof() override { server_.remove(this); }
  void onError(const core::Status&) override { server_.remove(this); }

  // Parses what has arrived until a request is complete, then answers it.
  void pump() {
    while (!busy_) {
      requestReady_ = false;
      core::http::ParseResult result = parser_.feed(pending_);
      pending_.erase(0, result.consumed);
      if (result.status == core::http::ParseStatus::error) return refuse(parser_.error());
      // A request without keep-alive ends with `closed` rather than `paused`: answered all the
      // same, and the connection closes after it.
      if (requestReady_) {
        busy_ = true;
        if (result.status != core::http::ParseStatus::paused) exchange_.keepAlive = false;
        return begin();
      }
      if (result.status != core::http::ParseStatus::more) return finishAfterWrites();
      return;
    }
  }

  void begin() {
    ++server_.requests_;
    const EchoOptions& o = server_.options_;
    if (o.delay.count() > 0 && server_.draw(o.delayPercent)) {
      timer_.start(o.delay, [this] { afterDelay(); });
      return;
    }
    afterDelay();
  }

  void afterDelay() {
    if (server_.draw(server_.options_.failPercent)) {
      nlohmann::json answer = answerJson(server_.options_.identity, exchange_.request, {});
      answer["error"] = "failed on purpose (--fail-percent)";
      return reply(503, answer);
    }
    nextCall();
  }

  void nextCall() {
    const EchoOptions& o = server_.options_;
    if (exchange_.nextCall == o.calls.size()) {
      nlohmann::json answer = answerJson(o.identity, exchange_.request, exchange_.calls);
      bool failed = false;
      for (const auto& call : exchange_.calls) failed = failed || callFailed(call.result);
      return reply(failed && o.failOnCallError ? 502 : 200, answer);
    }
    const HttpUrl& url = o.calls[exchange_.nextCall++];
    FetchRequest request{url, o.proxy, exchange_.propagated, o.callTimeout};
    fetch_ = std::make_unique<Fetch>(server_.loop_, server_.resolver_, std::move(request),
                                     [this, name = url.absolute()](FetchResult result) {
                                       if (!result.ok()) {
                                         LOG_WARN("echo", "call ", name, ": ", result.error);
                                       }
                                       exchange_.calls.push_back({name, std::move(result)});
                                       nextCall();
                                     });
    fetch_->start();
  }

  void reply(int status, const nlohmann::json& answer) {
    bool text = wantsText(exchange_.request.target);
    std::string body = text ? answerText(answer) : dumpJson(answer);
    core::http::LocalReply reply;
    reply.status = status;
    reply.body = body;
    reply.contentType = text ? "text/plain; charset=utf-8" : "application/json";
    reply.close = !exchange_.keepAlive;
    reply.headRequest = exchange_.head;
    (void)stream_->write(core::http::localReply(reply), nullptr);
    // The answer is on its way and the calls' answers (the whole chain below, for the first
    // service of a long one) are no longer needed: a kept-alive connection idles without them.
    server_.trimmer_.afterWork();
    if (!exchange_.keepAlive) return finishAfterWrites();
    exchange_.calls = {};
    busy_ = false;
    // On the next turn: answering pipelined requests one inside the other would grow the stack.
    // The last call's Fetch, whose callback this may be running in, can go there too.
    timer_.start(std::chrono::milliseconds(0), [this] {
      fetch_.reset();
      pump();
    });
  }

  void refuse(const core::http::ParseError& error) {
    core::http::LocalReply reply;
    reply.status = error.status;
    reply.body = error.reason;
    reply.close = true;
    (void)stream_->write(core::http::localReply(reply), nullptr);
    finishAfterWrites();
  }

  // Half-closes once the answer is out; the peer's close then ends the connection.
  void finishAfterWrites() {
    busy_ = true;  // nothing more is parsed
    stream_->stopReading();
    core::Status s = stream_->shutdown([this](core::Status) { server_.remove(this); });
    if (!s.ok()) server_.remove(this);
  }

  EchoServer& server_;
  core::Timer timer_;
  core::http::RequestParser parser_;
  std::string pending_;        // bytes received and not parsed yet
  bool busy_ = false;          // a request is being answered
  bool requestReady_ = false;  // set by onMessageComplete during a feed()
  Exchange exchange_;
  std::unique_ptr<Fetch> fetch_;
  std::unique_ptr<core::TcpStream> stream_;
};

EchoServer::EchoServer(core::Loop& loop, EchoOptions options)
    : loop_(loop),
      options_(std::move(options)),
      resolver_(loop),
      random_(std::random_device{}()),
      listener_(loop) {}

EchoServer::~EchoServer() { close(); }

core::Status EchoServer::listen(const core::SocketAddress& address) {
  return listener_.listen(address, [this](std::unique_ptr<core::TcpStream> stream) {
    (void)stream->setNoDelay(true);
    auto connection = std::make_unique<Connection>(*this, std::move(stream));
    Connection* raw = connection.get();
    connections_.emplace(raw, std::move(connection));
    if (!raw->start().ok()) remove(raw);
  });
}

void EchoServer::close() {
  listener_.close();
  for (auto& [raw, connection] : connections_) core::deferredDelete(loop_, std::move(connection));
  connections_.clear();
}

void EchoServer::remove(Connection* connection) {
  auto it = connections_.find(connection);
  if (it == connections_.end()) return;
  core::deferredDelete(loop_, std::move(it->second));
  connections_.erase(it);
}

bool EchoServer::draw(double percent) {
  if (percent <= 0) return false;
  if (percent >= 100) return true;
  return std::uniform_real_distribution<double>(0, 100)(random_) < percent;
}

}  // namespace mesh::cmd::echo
