#include "proxy/http/router_filter.h"

#include <array>

#include "core/base/log.h"
#include "core/http/chars.h"
#include "core/http/serializer.h"
#include "proxy/http/active_request.h"
#include "proxy/http/response_flags.h"
#include "proxy/http/shadow_request.h"
#include "proxy/http/spare_buffers.h"

namespace mesh::proxy {

namespace {
constexpr size_t kUpstreamHighWatermark = 1024 * 1024;
constexpr size_t kUpstreamLowWatermark = 256 * 1024;

std::optional<std::string_view> cookieValue(const core::http::HeaderMap& headers,
                                            std::string_view name) {
  std::optional<std::string_view> found;
  headers.forEach("cookie", [&](std::string_view line) {
    while (!found && !line.empty()) {
      size_t semi = line.find(';');
      std::string_view pair = core::http::trimOws(line.substr(0, semi));
      size_t eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name) found = pair.substr(eq + 1);
      if (semi == std::string_view::npos) break;
      line.remove_prefix(semi + 1);
    }
  });
  return found;
}

std::string redirectLocation(const core::model::Redirect& r, const RequestState& state) {
  std::string scheme = r.scheme.empty() ? state.scheme : r.scheme;
  std::string authority = r.authority.empty() ? state.authority : r.authority;
  if (r.port || r.derivePort) {
    size_t colon = authority.rfind(':');
    if (colon != std::string::npos && authority.find(']') == std::string::npos) {
      authority.resize(colon);
    }
    uint32_t port = r.port ? *r.port : (scheme == "https" ? 443 : 80);
    bool defaultPort = (scheme == "http" && port == 80) || (scheme == "https" && port == 443);
    if (!defaultPort) authority.append(":").append(std::to_string(port));
  }
  std::string path = r.uri.empty() ? state.path : r.uri;
  std::string location = scheme;
  location.append("://").append(authority).append(path);
  return location;
}
}  // namespace

void applyHeaderOperations(core::http::HeaderMap& headers,
                           const core::model::HeaderOperations& ops) {
  for (const auto& name : ops.remove) headers.remove(name);
  for (const auto& [name, value] : ops.set) {
    if (core::http::isValidHeaderName(name) && core::http::isValidHeaderValue(value)) {
      headers.set(name, value);
    }
  }
  for (const auto& [name, value] : ops.add) {
    if (core::http::isValidHeaderName(name) && core::http::isValidHeaderValue(value)) {
      headers.add(name, value);
    }
  }
}

RouterFilter::RouterFilter() : head_(spareStrings().take()) {}

RouterFilter::~RouterFilter() {
  onDownstreamReset();
  spareStrings().give(std::move(head_));
}

FilterStatus RouterFilter::onRequestHeaders(ActiveRequest& request) {
  request_ = &request;
  const auto& route = *request.route().route;
  const auto& cfg = *route.config;
  RequestState& state = request.request();
  if (cfg.redirect) {
    core::http::HeaderMap extra;
    extra.set("location", redirectLocation(*cfg.redirect, state));
    request.sendLocalReply(static_cast<int>(cfg.redirect->code), "", 0, &extra);
    return FilterStatus::kStop;
  }
  if (cfg.directResponse) {
    request.sendLocalReply(static_cast<int>(cfg.directResponse->status), cfg.directResponse->body, 0);
    return FilterStatus::kStop;
  }
  destination_ = &CompiledRouteTable::pickCluster(route, request.worker().rng());
  clusterName_ = destination_->cluster;

  auto& headers = state.headers;
  applyHeaderOperations(headers, cfg.headers.request);
  applyHeaderOperations(headers, destination_->headers.request);
  if (cfg.rewrite) {
    if (!cfg.rewrite->authority.empty()) {
      state.authority = cfg.rewrite->authority;
      headers.set("host", state.authority);
    }
    if (!cfg.rewrite->uri.empty() || !cfg.rewrite->uriRegex.empty()) {
      state.path = rewritePath(route, request.route().match, state.path);
    }
  }
  // Hop-by-hop lines are about the client's connection, not the upstream one.
  headers.remove("proxy-connection");
  headers.remove("keep-alive");
  headers.remove("te");
  if (state.upgrade) {
    headers.set("connection", "upgrade");
  } else {
    headers.remove("connection");
    headers.remove("upgrade");
  }
  chunked_ = state.chunked;
  ClusterTable::Entry* entry = request.worker().clusters.find(clusterName_);
  auto hopLine = request.telemetry().onUpstream(entry ? entry->info : nullptr,
                                                request.worker().metrics);
  head_.clear();
  core::http::appendRequestHead(head_, state.methodName, state.path, headers, hopLine);

  policy_ = &route.retryPolicy;
  if (cfg.timeoutMs > 0) {
    routeTimer_ = std::make_unique<core::Timer>(request.loop());
    routeTimer_->start(std::chrono::milliseconds(cfg.timeoutMs), [this] { onTimeout(); });
  }
  if (cfg.mirror) mirror();
  startAttempt();
  return FilterStatus::kStop;
}

void RouterFilter::onResponseHeaders(ActiveRequest& request, int,
                                     core::http::HeaderMap& headers) {
  const auto& cfg = *request.route().route->config;
  applyHeaderOperations(headers, cfg.headers.response);
  if (destination_) applyHeaderOperations(headers, destination_->headers.response);
}

std::optional<uint64_t> RouterFilter::hashFor() const {
  const auto& lb = cluster_->config().loadBalancer;
  if (lb.policy != core::model::LoadBalancer::Policy::ring_hash) return std::nullopt;
  const RequestState& state = request_->request();
  if (!lb.hashHeader.empty()) {
    if (auto v = state.headers.get(lb.hashHeader)) return hashKey(*v);
  } else if (!lb.hashCookie.empty()) {
    if (auto v = cookieValue(state.headers, lb.hashCookie)) return hashKey(*v);
  } else if (lb.hashSourceIp) {
    return hashKey(state.peer.ip());
  } else if (!lb.hashQueryParameter.empty()) {
    std::string_view q = state.query();
    while (!q.empty()) {
      size_t amp = q.find('&');
      std::string_view pair = q.substr(0, amp);
      size_t eq = pair.find('=');
      if (pair.substr(0, eq) == lb.hashQueryParameter) {
        return hashKey(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
      }
      if (amp == std::string_view::npos) break;
      q.remove_prefix(amp + 1);
    }
  }
  return std::nullopt;
}

void RouterFilter::startAttempt() {
  if (done_) return;
  ClusterTable::Entry* entry = request_->worker().clusters.find(clusterName_);
  if (!entry) {
    done_ = true;
    request_->sendLocalReply(
        503, "cluster \"" + std::string(clusterName_) + "\" is not configured\n",
        kNoHealthyUpstream);
    return;
  }
  cluster_ = entry->info;
  cluster_->requestsTotal.fetch_add(1, std::memory_order_relaxed);
  Host* host = entry->lb->choose(LbContext{hashFor(), lastHost_});
  if (!host) {
    done_ = true;
    cluster_->noHealthyUpstream.fetch_add(1, std::memory_order_relaxed);
    request_->sendLocalReply(
        503, "no healthy upstream for cluster \"" + std::string(clusterName_) + "\"\n",
        kNoHealthyUpstream);
    return;
  }
  host_ = host;
  lastHost_ = host;
  host_->activeRequests.fetch_add(1, std::memory_order_relaxed);
  host_->requestsTotal.fetch_add(1, std::memory_order_relaxed);
  request_->setUpstreamDescription(clusterName_, host->addressText);
  request_->telemetry().onUpstreamHost(*host);
  if (policy_->perTryTimeout().count() > 0) {
    if (!tryTimer_) tryTimer_ = std::make_unique<core::Timer>(request_->loop());
    tryTimer_->start(policy_->perTryTimeout(), [this] {
      attemptFailed(AttemptFailure::perTryTimeout, kUpstreamRequestTimeout,
                    "upstream per-try timeout");
    });
  }
  pool_ = entry->pool(request_->loop(), *host);
  waitingPool_ = true;
  pool_->request(*this);
}

void RouterFilter::onPoolReady(std::unique_ptr<UpstreamConnection> connection) {
  waitingPool_ = false;
  connection_ = std::move(connection);
  connection_->attach(*this, request_->request().method);
  request_->worker().stats.upstreamRequests.inc();
  // The head, then any body that came before the connection, in one write.
  core::http::ChunkHeader chunkHeader(unsent_.size());
  std::array<core::ByteView, 5> chunks;
  size_t n = 0;
  chunks[n++] = core::ByteView(head_);
  if (!unsent_.empty() && chunked_) chunks[n++] = core::ByteView(chunkHeader.view());
  if (!unsent_.empty()) chunks[n++] = core::ByteView(unsent_);
  if (!unsent_.empty() && chunked_) chunks[n++] = core::ByteView(core::http::kCrlf);
  if (requestEnded_ && chunked_) chunks[n++] = core::ByteView(core::http::kLastChunk);
  core::Status written = connection_->writeCopy(std::span(chunks.data(), n));
  unsent_.clear();
  if (!written.ok()) {
    attemptFailed(AttemptFailure::refused, kUpstreamConnectionTermination,
                  "upstream connection closed");
  }
}

void RouterFilter::onPoolFailure(PoolFailure failure, std::string why) {
  waitingPool_ = false;
  if (failure == PoolFailure::overflow) {
    endAttempt(false);
    done_ = true;
    request_->sendLocalReply(503, "upstream connect error or disconnect/reset before headers. "
                                  "reset reason: overflow (circuit breaker open for cluster \"" +
                                      std::string(clusterName_) + "\")\n",
                             kUpstreamOverflow);
    return;
  }
  attemptFailed(AttemptFailure::connectFailure, kUpstreamConnectFailure, why);
}

void RouterFilter::sendBody(std::string_view piece) {
  if (chunked_) {
    std::string out;
    out += core::http::ChunkHeader(piece.size()).view();
    out += piece;
    out += core::http::kCrlf;
    connection_->write(std::move(out));
  } else {
    connection_->write(std::string(piece));
  }
  if (connection_->writeQueueSize() > kUpstreamHighWatermark) request_->pauseDownstreamReading();
}

void RouterFilter::onRequestData(std::string_view piece) {
  if (done_ || piece.empty()) return;
  if (!bodyOverflow_) {
    retained_.append(piece);
    if (retained_.size() > request_->worker().options.retryBufferBytes) {
      bodyOverflow_ = true;
      retained_ = std::string();
    }
  }
  if (connection_ && !responseForwarded_) {
    sendBody(piece);
    return;
  }
  unsent_.append(piece);
  if (unsent_.size() > kUpstreamHighWatermark) request_->pauseDownstreamReading();
}

void RouterFilter::onRequestEnd() {
  if (requestEnded_) return;
  requestEnded_ = true;
  if (connection_ && chunked_ && !tunnel_) connection_->write(std::string(core::http::kLastChunk));
}

void RouterFilter::onUpstreamWritable() {
  if (connection_ && connection_->writeQueueSize() < kUpstreamLowWatermark) {
    request_->resumeDownstreamReading();
  }
}

void RouterFilter::onUpstreamReadDone() {
  if (responseForwarded_ && !done_) request_->flushResponse();
}

void RouterFilter::onDownstreamWritable() {
  if (connection_) connection_->resumeReading();
}

bool RouterFilter::canRetry() const {
  return !done_ && policy_ && retriesDone_ < policy_->maxRetries() && !bodyOverflow_ && !tunnel_ &&
         !cluster_->breaker().wouldOverflow(CircuitBreaker::Resource::retries);
}

void RouterFilter::scheduleRetry() {
  ++retriesDone_;
  retrySlot_ = cluster_->breaker().tryAcquire(CircuitBreaker::Resource::retries);
  cluster_->retries.fetch_add(1, std::memory_order_relaxed);
  request_->worker().stats.retries.inc();
  if (!backoffTimer_) backoffTimer_ = std::make_unique<core::Timer>(request_->loop());
  auto wait = RetryPolicy::backoff(retriesDone_, request_->worker().rng());
  backoffTimer_->start(wait, [this] {
    unsent_ = retained_;
    startAttempt();
  });
}

void RouterFilter::endAttempt(bool reuse) {
  if (tryTimer_) tryTimer_->stop();
  if (waitingPool_ && pool_) pool_->cancel(*this);
  waitingPool_ = false;
  if (connection_) {
    connection_->detach();
    if (!reuse || !requestEnded_) connection_->close();
    if (pool_) {
      pool_->release(std::move(connection_));
    } else {
      connection_->close();
      core::deferredDelete(request_->loop(), std::move(connection_));
    }
  }
  if (host_) {
    host_->activeRequests.fetch_sub(1, std::memory_order_relaxed);
    host_ = nullptr;
  }
  retrySlot_.reset();
}

void RouterFilter::attemptFailed(AttemptFailure failure, uint32_t flag, const std::string& why) {
  if (done_) return;
  Host* host = host_;
  if (host) {
    host->requestsFailed.fetch_add(1, std::memory_order_relaxed);
    if (auto* outlier = cluster_->outlier()) outlier->report(*host, OutlierDetector::Result::localFailure);
  }
  endAttempt(false);
  if (responseForwarded_) {
    done_ = true;
    request_->resetStream(flag);
    return;
  }
  if (canRetry() && policy_->retriesFailure(failure)) {
    LOG_DEBUG("router", "retrying ", clusterName_, " after: ", why);
    scheduleRetry();
    return;
  }
  done_ = true;
  if (routeTimer_) routeTimer_->stop();
  if (failure == AttemptFailure::connectFailure) request_->telemetry().setUpstreamFailure(why);
  uint32_t flags = flag;
  if (retriesDone_ > 0) flags |= kUpstreamRetryLimitExceeded;
  if (failure == AttemptFailure::perTryTimeout) {
    cluster_->timeouts.fetch_add(1, std::memory_order_relaxed);
    request_->sendLocalReply(504, "upstream request timeout\n", flags);
    return;
  }
  if (failure == AttemptFailure::protocolError) {
    request_->sendLocalReply(502, "upstream sent an invalid response: " + why + "\n", flags);
    return;
  }
  const char* what = failure == AttemptFailure::connectFailure
                         ? "upstream connect error or disconnect/reset before headers. reset reason: connection failure: "
                         : "upstream connect error or disconnect/reset before headers. reset reason: connection termination: ";
  request_->sendLocalReply(503, std::string(what) + why + "\n", flags);
}

void RouterFilter::onUpstreamHead(core::http::ResponseHead& head) {
  if (done_) return;
  if (tryTimer_) tryTimer_->stop();
  int status = head.status;
  if (auto* outlier = cluster_->outlier(); outlier && host_) {
    using R = OutlierDetector::Result;
    R result = status == 502 || status == 503 || status == 504 ? R::gatewayError
               : status >= 500                                  ? R::error5xx
                                                                : R::success;
    outlier->report(*host_, result);
  }
  if (status >= 500 && host_) host_->requestsFailed.fetch_add(1, std::memory_order_relaxed);
  if (policy_->retriesStatus(status)) {
    if (canRetry()) {
      LOG_DEBUG("router", "retrying ", clusterName_, " after status ", status);
      endAttempt(false);
      scheduleRetry();
      return;
    }
    if (retriesDone_ > 0) request_->addFlags(kUpstreamRetryLimitExceeded);
  }
  responseForwarded_ = true;
  if (routeTimer_ && status == 101) routeTimer_->stop();
  request_->encodeHeaders(status, head.reason, head.headers, head.chunked,
                          head.contentLength.has_value());
  if (status == 101) {
    tunnel_ = true;
    request_->startTunnel();
  }
}

void RouterFilter::onUpstreamBody(std::string_view piece) {
  if (done_ || !responseForwarded_) return;
  request_->encodeData(piece);
  if (connection_ && request_->downstreamBackedUp()) connection_->pauseReading();
}

void RouterFilter::onUpstreamComplete() {
  if (done_) return;
  done_ = true;
  if (routeTimer_) routeTimer_->stop();
  endAttempt(true);
  request_->encodeComplete();
}

void RouterFilter::onUpstreamFailure(AttemptFailure failure, std::string_view why) {
  attemptFailed(failure,
                failure == AttemptFailure::protocolError ? kUpstreamProtocolError
                                                         : kUpstreamConnectionTermination,
                std::string(why));
}

void RouterFilter::onUpstreamTunnelData(std::string_view data) {
  if (!done_) request_->tunnelWrite(data);
}

void RouterFilter::onUpstreamTunnelEnd() {
  if (done_) return;
  done_ = true;
  endAttempt(false);
  request_->endTunnel();
}

void RouterFilter::onDownstreamTunnelData(std::string_view data) {
  if (connection_ && tunnel_) connection_->write(std::string(data));
}

void RouterFilter::onDownstreamReset() {
  if (routeTimer_) routeTimer_->stop();
  if (backoffTimer_) backoffTimer_->stop();
  if (request_) endAttempt(false);
  done_ = true;
}

void RouterFilter::onTimeout() {
  if (done_) return;
  cluster_->timeouts.fetch_add(1, std::memory_order_relaxed);
  if (host_) {
    if (auto* outlier = cluster_->outlier()) outlier->report(*host_, OutlierDetector::Result::localFailure);
  }
  if (backoffTimer_) backoffTimer_->stop();
  endAttempt(false);
  done_ = true;
  if (responseForwarded_) {
    request_->resetStream(kUpstreamRequestTimeout);
    return;
  }
  request_->sendLocalReply(504, "upstream request timeout\n", kUpstreamRequestTimeout);
}

void RouterFilter::mirror() {
  const auto& m = *request_->route().route->config->mirror;
  std::uniform_real_distribution<double> dist(0, 100);
  if (m.percent < 100 && dist(request_->worker().rng) >= m.percent) return;
  // Bodies are not mirrored: the shadow gets the head of body-less requests only.
  if (request_->request().hasBody()) return;
  ShadowRequest::send(request_->worker(), m.cluster, request_->request());
}

}  // namespace mesh::proxy
