#include "proxy/http/http_connection.h"

#include "core/base/log.h"
#include "core/http/chars.h"
#include "core/http/serializer.h"
#include "proxy/http/active_request.h"
#include "proxy/http/response_flags.h"
#include "proxy/http/spare_buffers.h"

namespace mesh::proxy {

using core::http::Flow;
using core::http::ParseStatus;

namespace {
// Bytes of pipelined requests we hold before we stop reading from the client.
constexpr size_t kMaxPendingBytes = 64 * 1024;

// Splits an absolute-form target ("http://host:port/path?q") into its parts.
bool splitAbsolute(std::string_view target, RequestState& state) {
  size_t scheme = target.find("://");
  if (scheme == std::string_view::npos || scheme == 0) return false;
  state.scheme.assign(target.substr(0, scheme));
  for (char& c : state.scheme) c = core::http::asciiLower(c);
  std::string_view rest = target.substr(scheme + 3);
  size_t slash = rest.find_first_of("/?");
  state.authority.assign(rest.substr(0, slash));
  // Origin-form always starts with '/', even when the URI had only a query.
  std::string path(1, '/');
  if (slash != std::string_view::npos) {
    path.append(rest.substr(rest[slash] == '/' ? slash + 1 : slash));
  }
  state.path = std::move(path);
  return !state.authority.empty();
}

// "host:80" and "[::1]:80" have a port; "host" and "[::1]" do not.
bool hasPort(std::string_view authority) {
  size_t colon = authority.rfind(':');
  return colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos &&
         (authority.front() != '[' || authority.find(']') < colon);
}
}  // namespace

HttpConnection::HttpConnection(WorkerContext& worker, std::unique_ptr<core::TcpStream> stream,
                               std::string routeTable, uint32_t port, ClosedCallback onClosed)
    : HttpConnection(worker, std::unique_ptr<core::Stream>(), core::SocketAddress(),
                     std::move(routeTable), port, std::move(onClosed)) {
  peer_ = stream->peerAddress();
  stream->setNoDelay(true);
  stream_ = std::move(stream);
}

HttpConnection::HttpConnection(WorkerContext& worker, std::unique_ptr<core::Stream> stream,
                               core::SocketAddress peer, std::string routeTable, uint32_t port,
                               ClosedCallback onClosed)
    : worker_(worker),
      routeTable_(std::move(routeTable)),
      port_(port),
      onClosed_(std::move(onClosed)),
      peer_(peer),
      stream_(std::move(stream)),
      timer_(std::make_unique<core::Timer>(worker.loop)),
      resumeTimer_(std::make_unique<core::Timer>(worker.loop)),
      parser_(std::make_unique<core::http::RequestParser>(
          static_cast<core::http::RequestHandler&>(*this))) {
  ++worker_.activeConnections;
  worker_.stats.downstreamConnections.inc();
  worker_.stats.downstreamConnectionsActive.add(1);
}

HttpConnection::~HttpConnection() {
  active_.reset();
  --worker_.activeConnections;
  worker_.stats.downstreamConnectionsActive.sub(1);
}

void HttpConnection::start() {
  armTimer(TimerMode::idle);
  resumeReading();
  if (!reading_) closeNow();
}

void HttpConnection::drain() {
  if (closed_) return;
  if (!active_ && pending_.empty() && !parser_->messageInProgress()) closeNow();
}

void HttpConnection::write(std::string data) {
  if (closed_) return;
  if (!stream_->write(std::move(data), [this](core::Status s) { onWritten(s); }).ok()) closeNow();
}

void HttpConnection::writeCopy(std::string_view data) {
  if (closed_) return;
  core::ByteView chunk(data.data(), data.size());
  auto done = [this](core::Status s) { onWritten(s); };
  if (!stream_->writeCopy(std::span<const core::ByteView>(&chunk, 1), done).ok()) closeNow();
}

void HttpConnection::onWritten(const core::Status& status) {
  if (!status.ok()) {
    closeNow();
    return;
  }
  if (active_) active_->onDownstreamWritable();
}

size_t HttpConnection::writeQueueSize() const { return closed_ ? 0 : stream_->writeQueueSize(); }

void HttpConnection::pauseReading() {
  if (reading_ && !closed_) stream_->stopReading();
  reading_ = false;
}

void HttpConnection::resumeReading() {
  if (reading_ || closed_) return;
  reading_ = stream_->startReading(*this).ok();
}

// The deadline moves on every request (head timeout, then idle timeout), the timer does not:
// moving it is two timer-heap operations. It is set again only to fire sooner, and when it
// fires before the deadline it sets itself for the time left.
void HttpConnection::armTimer(TimerMode mode) {
  timerMode_ = mode;
  uint32_t ms = mode == TimerMode::idle ? worker_.options.idleTimeoutMs
                                        : worker_.options.requestHeadersTimeoutMs;
  deadlineMs_ = worker_.loop.now() + ms;
  timerArmed_ = true;
  if (!timer_->isActive() || timer_->dueIn() > std::chrono::milliseconds(ms)) {
    timer_->start(std::chrono::milliseconds(ms), [this] { onTimer(); });
  }
}

void HttpConnection::onTimer() {
  if (closed_ || !timerArmed_) return;
  uint64_t now = worker_.loop.now();
  if (now < deadlineMs_) {
    timer_->start(std::chrono::milliseconds(deadlineMs_ - now), [this] { onTimer(); });
    return;
  }
  if (active_) return;
  if (timerMode_ == TimerMode::head) {
    LOG_DEBUG("http", peer_.toString(), ": request head not complete in time");
    worker_.stats.protocolError("header_timeout").inc();
    write(core::http::localReply({.status = 408, .body = "request headers not received in time\n",
                                  .close = true}));
    closeAfterWrite();
    return;
  }
  closeNow();
}

void HttpConnection::onData(core::ByteView data) {
  if (closing_ || closed_) return;
  std::string_view bytes(data.data(), data.size());
  if (tunnel_) {
    if (active_) active_->onDownstreamTunnelData(bytes);
    return;
  }
  if (awaitingResponse_) {
    pending_.append(bytes);
    if (pending_.size() > kMaxPendingBytes) pauseReading();
    return;
  }
  if (!active_ && timerMode_ == TimerMode::idle) armTimer(TimerMode::head);
  feedLoop(bytes);
}

void HttpConnection::feedLoop(std::string_view data) {
  while (!closed_ && !closing_) {
    auto result = parser_->feed(data);
    data.remove_prefix(result.consumed);
    switch (result.status) {
      case ParseStatus::more:
        return;
      case ParseStatus::paused:
        if (startPending_) {
          startPending_ = false;
          if (active_) active_->start();
          continue;  // the body, or the end of a request without one
        }
        pending_.assign(data);
        awaitingResponse_ = true;
        return;
      case ParseStatus::upgrade:
        pending_.assign(data);  // the first bytes of the new protocol
        awaitingResponse_ = true;
        return;
      case ParseStatus::closed:
        noMoreRequests_ = true;
        awaitingResponse_ = true;
        return;
      case ParseStatus::error:
        protocolError();
        return;
    }
  }
}

Flow HttpConnection::onHead(core::http::RequestHead& head) {
  timerArmed_ = false;  // no timeout while the request runs (the route's own applies)
  RequestState state;
  // The request takes the parsed lines and the parser goes on with a spare map: the lines'
  // bytes are copied once, in one block, rather than into the parser's arena and then again.
  state.headers = spareHeaderMaps().take();
  state.headers.swap(head.headers);
  state.headers.materialize(parser_->input());
  if (forwardedClientCert_) {
    state.inbound = true;
    state.headers.remove("x-forwarded-client-cert");
    if (!forwardedClientCert_->empty()) state.headers.set("x-forwarded-client-cert", *forwardedClientCert_);
    state.peerPrincipal = state.headers.store(peerPrincipal_);
    state.serverName = state.headers.store(serverName_);
  }
  state.method = head.method;
  state.methodName = std::string(head.methodName);
  state.version = head.version;
  state.keepAlive = head.keepAlive;
  state.upgrade = head.upgrade;
  state.chunked = head.chunked;
  state.contentLength = head.contentLength;
  state.peer = peer_;
  state.gateway = gateway_;
  state.port = port_;
  state.scheme = scheme_;
  std::string_view target = head.target;
  if (!target.empty() && target.front() != '/' && target != "*" &&
      head.method != core::http::Method::connect) {
    if (!splitAbsolute(target, state)) state.path = std::string(target);
  } else {
    state.path = std::string(target);
    if (auto host = state.headers.get("host")) state.authority = std::string(*host);
  }
  if (!state.headers.has("host") && !state.authority.empty()) {
    state.headers.set("host", state.authority);
  }
  if (originalPort_ && !state.authority.empty() && !hasPort(state.authority)) {
    state.authority.append(1, ':').append(std::to_string(originalPort_));
  }
  worker_.stats.downstreamRequests.inc();
  active_ = std::make_unique<ActiveRequest>(*this, worker_, std::move(state), worker_.config,
                                            routeTable_);
  startPending_ = true;
  return Flow::pause;
}

void HttpConnection::onBody(std::string_view piece) {
  if (active_) active_->onRequestData(piece);
}

Flow HttpConnection::onMessageComplete(const core::http::HeaderMap&) {
  if (active_) active_->onRequestComplete();
  if (!active_ && endPending_) {
    endPending_ = false;
    return Flow::proceed;  // on to the next request, if the client sent one already
  }
  return Flow::pause;
}

void HttpConnection::onRequestFinished(bool keepAlive) {
  bool requestDone = active_ && active_->requestComplete();
  if (active_ && !requestDone && active_->endsWithHead()) {
    // Answered from its head alone (a local reply): the parser has yet to report the
    // request's end, which then needs no one.
    requestDone = true;
    endPending_ = true;
  }
  if (active_) core::deferredDelete(worker_.loop, std::move(active_));
  if (closed_) return;
  if (!keepAlive || !requestDone || noMoreRequests_ || worker_.draining) {
    closeAfterWrite();
    return;
  }
  awaitingResponse_ = false;
  armTimer(TimerMode::idle);
  resumeReading();
  if (pending_.empty()) return;
  // Next turn: the request that just ended may still be on the stack.
  resumeTimer_->start(std::chrono::milliseconds(0), [this] {
    std::string data = std::move(pending_);
    pending_.clear();
    if (!active_) armTimer(TimerMode::head);
    feedLoop(data);
  });
}

void HttpConnection::enterTunnel() {
  tunnel_ = true;
  timerArmed_ = false;
  timer_->stop();
  if (!pending_.empty() && active_) {
    std::string data = std::move(pending_);
    pending_.clear();
    active_->onDownstreamTunnelData(data);
  }
  resumeReading();
}

void HttpConnection::protocolError() {
  const auto& err = parser_->error();
  worker_.stats.protocolError(core::http::parseErrorKindName(err.kind)).inc();
  LOG_DEBUG("http", peer_.toString(), ": bad request: ", err.reason);
  if (active_ && active_->responseStarted()) {
    worker_.stats.flagCounter(kDownstreamProtocolError).inc();
    closeNow();
    return;
  }
  // A request whose body went wrong logs itself, with its method, path and upstream.
  bool logged = active_ != nullptr;
  if (active_) {
    active_->onDownstreamProtocolError(err.status);
    core::deferredDelete(worker_.loop, std::move(active_));
  } else {
    worker_.stats.flagCounter(kDownstreamProtocolError).inc();
  }
  core::http::HeaderMap headers;
  headers.addView(kResponseFlagsHeader, "DPE");
  std::string body = std::string(err.reason) + "\n";
  write(core::http::localReply(
      {.status = err.status, .body = body, .close = true, .headers = &headers}));
  if (worker_.options.accessLog && !logged) {
    std::fprintf(worker_.options.accessLog, "- \"- - -\" %d DPE 0 0 0 \"-\" \"-\" \"%s\"\n",
                 err.status, peer_.toString().c_str());
  }
  closeAfterWrite();
}

void HttpConnection::closeAfterWrite() {
  if (closing_ || closed_) return;
  closing_ = true;
  pauseReading();
  timerArmed_ = false;
  timer_->start(std::chrono::seconds(5), [this] { closeNow(); });
  core::Status s = stream_->shutdown([this](core::Status) { closeNow(); });
  if (!s.ok()) closeNow();
}

void HttpConnection::closeNow() {
  if (closed_) return;
  closed_ = true;
  if (active_) {
    active_->onDownstreamClosed();
    core::deferredDelete(worker_.loop, std::move(active_));
  }
  timer_->stop();
  resumeTimer_->stop();
  stream_->close();
  if (onClosed_) onClosed_(*this);
}

void HttpConnection::onEof() {
  if (tunnel_ && active_) {
    active_->endTunnel();
    return;
  }
  closeNow();
}

void HttpConnection::onError(const core::Status&) { closeNow(); }

}  // namespace mesh::proxy
