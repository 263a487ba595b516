#include "cmd/echo/fetch.h"

#include "core/http/serializer.h"

namespace mesh::cmd::echo {

namespace {
core::http::ParserLimits answerLimits(std::size_t maxBody) {
  core::http::ParserLimits limits;
  limits.maxBodyBytes = maxBody;
  return limits;
}
}  // namespace

Fetch::Fetch(core::Loop& loop, core::Resolver& resolver, FetchRequest request, Callback done)
    : loop_(loop),
      resolver_(resolver),
      request_(std::move(request)),
      done_(std::move(done)),
      timer_(loop),
      parser_(*this, answerLimits(request_.maxBodyBytes)) {}

Fetch::~Fetch() { *alive_ = false; }

void Fetch::start() {
  timer_.start(request_.timeout, [this] {
    fail("no answer within " + std::to_string(request_.timeout.count()) + " ms");
  });
  const HttpUrl& next = request_.proxy ? *request_.proxy : request_.url;
  std::weak_ptr<bool> alive = alive_;
  core::Status s = resolver_.resolve(next.host, [this, alive, port = next.port](auto ips) {
    if (alive.expired() || complete_) return;
    if (!ips.ok())
      return fail("resolving " + (request_.proxy ? request_.proxy->host : request_.url.host) +
                  ": " + ips.status().message());
    connectTo(ips->front(), port);
  });
  if (!s.ok()) {
    // The callback must not run inside start(): report on the next turn.
    timer_.start(std::chrono::milliseconds(0), [this, why = s.message()] { fail(why); });
  }
}

void Fetch::connectTo(const std::string& ip, std::uint16_t port) {
  auto address = core::SocketAddress::parse(ip, port);
  if (!address.ok()) return fail(address.status().message());
  stream_ = std::make_unique<core::TcpStream>(loop_);
  std::string where = address->toString();
  core::Status s = stream_->connect(*address, [this, where](core::Status st) {
    if (!st.ok()) return fail("connecting to " + where + ": " + st.message());
    sendRequest();
  });
  if (!s.ok()) fail("connecting to " + where + ": " + s.message());
}

void Fetch::sendRequest() {
  core::http::HeaderMap headers;
  headers.add("host", request_.url.authority);
  for (const auto& [name, value] : request_.headers) headers.add(name, value);
  headers.add("connection", "close");
  std::string head;
  std::string target = request_.proxy ? request_.url.absolute() : request_.url.target;
  core::http::appendRequestHead(head, "GET", target, headers);
  parser_.expectResponseTo(core::http::Method::get);
  core::Status s = stream_->startReading(*this);
  if (s.ok()) s = stream_->write(std::move(head), nullptr);
  if (!s.ok()) fail("sending: " + s.message());
}

void Fetch::finish(FetchResult result) {
  if (complete_) return;
  complete_ = true;
  if (stream_) stream_->close();
  // Delivered from the timer, not from inside the parser or the stream: the callback may
  // destroy this Fetch, which a Timer callback allows.
  result_ = std::move(result);
  timer_.start(std::chrono::milliseconds(0), [this] {
    Callback done = std::move(done_);
    done(std::move(result_));
  });
}

void Fetch::onData(core::ByteView data) {
  auto r = parser_.feed(data.data(), data.size());
  if (r.status == core::http::ParseStatus::error) {
    fail(std::string("malformed answer: ") + std::string(parser_.error().reason));
  }
}

void Fetch::onEof() {
  auto r = parser_.finish();
  if (complete_) return;
  if (r.status == core::http::ParseStatus::error) {
    return fail(std::string("answer cut short: ") + std::string(parser_.error().reason));
  }
  fail("the connection closed before an answer");
}

void Fetch::onError(const core::Status& status) { fail("reading: " + status.message()); }

core::http::Flow Fetch::onHead(core::http::ResponseHead& head) {
  if (head.status >= 200) {
    result_.status = head.status;
    result_.contentType = std::string(head.headers.get("content-type").value_or(""));
  }
  return core::http::Flow::proceed;
}

void Fetch::onBody(std::string_view piece) {
  if (result_.status >= 200) result_.body.append(piece);
}

core::http::Flow Fetch::onMessageComplete(const core::http::HeaderMap&) {
  if (result_.status >= 200) {
    FetchResult result = std::move(result_);
    finish(std::move(result));
  }
  return core::http::Flow::pause;
}

}  // namespace mesh::cmd::echo
