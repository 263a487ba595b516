#include "proxy/http/active_request.h"

#include <cstdio>
#include <random>

#include "core/base/log.h"
#include "core/http/chars.h"
#include "core/http/serializer.h"
#include "proxy/http/filters/authz_filter.h"
#include "proxy/http/filters/cors_filter.h"
#include "proxy/http/filters/fault_filter.h"
#include "proxy/http/filters/jwt_filter.h"
#include "proxy/http/http_connection.h"
#include "proxy/http/response_flags.h"
#include "proxy/http/router_filter.h"
#include "proxy/http/spare_buffers.h"
#include "proxy/telemetry/access_log.h"

namespace mesh::proxy {

namespace {
// A client that reads slower than the upstream sends: stop reading the upstream above this.
constexpr size_t kHighWatermark = 1024 * 1024;
// Body bytes held while the chain has not reached the router.
constexpr size_t kMaxHeldBody = 1024 * 1024;

// Each flag a request gains, in mesh_proxy_response_flags_total: local replies, and resets
// on either side, which the access log reports too.
void countFlags(ProxyStats& stats, uint32_t flags) {
  for (uint32_t bit = 1; bit <= kUpstreamProtocolError; bit <<= 1) {
    if (flags & bit) stats.flagCounter(bit).inc();
  }
}

// A random version-4 UUID for x-request-id: 8-4-4-4-12 lowercase hex digits of a then b.
// Formatted by hand: it runs on every request, and printf's machinery costs more than the rest
// of the header work.
void uuid4(std::mt19937_64& rng, char (&out)[36]) {
  uint64_t a = rng(), b = rng();
  a = (a & 0xffffffffffff0fffull) | 0x0000000000004000ull;
  b = (b & 0x3fffffffffffffffull) | 0x8000000000000000ull;
  static constexpr char kHex[] = "0123456789abcdef";
  size_t at = 0;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out[at++] = '-';
    uint64_t word = i < 16 ? a : b;
    out[at++] = kHex[(word >> (60 - 4 * (i % 16))) & 0xf];
  }
}
}  // namespace

ActiveRequest::ActiveRequest(HttpConnection& connection, WorkerContext& worker,
                             RequestState state, std::shared_ptr<const RuntimeConfig> config,
                             const std::string& routeTable)
    : connection_(connection),
      worker_(worker),
      state_(std::move(state)),
      config_(std::move(config)),
      routeTableName_(routeTable),
      startTime_(std::chrono::steady_clock::now()),
      out_(spareStrings().take()) {
  headRequest_ = state_.method == core::http::Method::head;
}

// The filters go first, while the request they point to is whole; then its buffers go back
// to this thread's spares for the next request.
ActiveRequest::~ActiveRequest() {
  filters_.clear();
  spareHeaderMaps().give(std::move(state_.headers));
  spareStrings().give(std::move(out_));
}

void ActiveRequest::start() {
  // Envoy's request decoration: an id to follow the request through the mesh, and who
  // the client was.
  auto& h = state_.headers;
  if (!h.has("x-request-id")) {
    char id[36];
    uuid4(worker_.rng, id);
    h.add("x-request-id", std::string_view(id, sizeof id));
  }
  std::string peerIp = state_.peer.ip();
  if (auto xff = h.get("x-forwarded-for")) {
    // Joined in the map's own arena: no string to allocate.
    std::string_view joined = h.storeAppend(h.storeAppend(h.store(*xff), ", "), peerIp);
    h.set("x-forwarded-for", joined);
  } else {
    h.set("x-forwarded-for", peerIp);
  }
  if (!h.has("x-forwarded-proto")) h.set("x-forwarded-proto", state_.scheme);
  telemetry_.onRequest(h, state_.inbound, worker_.options.tracing, worker_.rng);

  if (state_.method == core::http::Method::connect) {
    sendLocalReply(405, "CONNECT is not supported on this listener\n", 0);
    return;
  }
  // Authentication (JWT) first, as Envoy's jwt_authn filter runs before the router: a
  // sidecar checks what reaches its workload, a gateway what comes in from outside, and the
  // validated claims can pick the route (Istio's claim-based routing, claim_match.h).
  bool enforced = state_.inbound || state_.gateway;
  if (enforced && config_ && !config_->authn().empty()) {
    JwtFilter jwt(config_->authn());
    if (jwt.onRequestHeaders(*this) == FilterStatus::kStop) return;
  }
  const CompiledRouteTable* table = config_ ? config_->routeTable(routeTableName_) : nullptr;
  if (table) {
    RouteRequest rr;
    rr.method = state_.methodName;
    rr.scheme = state_.scheme;
    rr.authority = state_.authority;
    rr.path = state_.pathOnly();
    rr.query = state_.query();
    rr.headers = &state_.headers;
    rr.port = state_.port;
    rr.sourceLabels = &worker_.options.labels;
    rr.sourceNamespace = worker_.options.ns;
    rr.claims = state_.jwtClaims.get();
    route_ = table->match(rr);
  }
  if (!route_) {
    sendLocalReply(404, "no route for host \"" + state_.authority + "\" and path \"" +
                            std::string(state_.pathOnly()) + "\"\n",
                   kNoRoute);
    return;
  }
  const auto& cfg = *route_.route->config;
  // Then authorization, as Envoy's RBAC filter: nothing else runs for a refused request.
  if (enforced && !config_->authz().empty())
    filters_.push_back(std::make_unique<AuthzFilter>(config_->authz()));
  if (cfg.cors) filters_.push_back(std::make_unique<CorsFilter>());
  if (cfg.fault) filters_.push_back(std::make_unique<FaultFilter>());
  auto router = std::make_unique<RouterFilter>();
  router_ = router.get();
  filters_.push_back(std::move(router));
  // A client that waits for "100 Continue" gets it from us; the upstream never sees Expect.
  if (auto expect = h.get("expect"); expect && core::http::equalsIgnoreCase(*expect, "100-continue")) {
    h.remove("expect");
    connection_.write("HTTP/1.1 100 Continue\r\n\r\n");
  }
  runFilters();
}

void ActiveRequest::runFilters() {
  while (nextFilter_ < filters_.size() && !finished_ && !responseStarted_) {
    HttpFilter& filter = *filters_[nextFilter_++];
    if (&filter == router_) routerStarted_ = true;
    if (filter.onRequestHeaders(*this) == FilterStatus::kStop) break;
  }
  if (routerStarted_ && router_ && !finished_) {
    if (!heldBody_.empty()) {
      std::string held = std::move(heldBody_);
      heldBody_.clear();
      router_->onRequestData(held);
      connection_.resumeReading();
    }
    if (requestComplete_) router_->onRequestEnd();
  }
}

void ActiveRequest::continueDecoding() { runFilters(); }

void ActiveRequest::onRequestData(std::string_view piece) {
  bytesReceived_ += piece.size();
  if (finished_) return;
  if (routerStarted_ && router_) {
    router_->onRequestData(piece);
    return;
  }
  heldBody_.append(piece);
  if (heldBody_.size() > kMaxHeldBody) connection_.pauseReading();
}

void ActiveRequest::onRequestComplete() {
  requestComplete_ = true;
  if (finished_) return;
  if (routerStarted_ && router_ && heldBody_.empty()) router_->onRequestEnd();
  if (responseComplete_) finish();
}

void ActiveRequest::onDownstreamWritable() {
  if (router_ && !downstreamBackedUp()) router_->onDownstreamWritable();
}

bool ActiveRequest::downstreamBackedUp() const {
  return connection_.writeQueueSize() + out_.size() > kHighWatermark;
}

void ActiveRequest::pauseDownstreamReading() { connection_.pauseReading(); }
void ActiveRequest::resumeDownstreamReading() { connection_.resumeReading(); }

void ActiveRequest::onDownstreamTunnelData(std::string_view data) {
  bytesReceived_ += data.size();
  if (router_) router_->onDownstreamTunnelData(data);
}

void ActiveRequest::onDownstreamClosed() {
  if (finished_) return;
  flags_ |= kDownstreamConnectionTermination;
  countFlags(worker_.stats, kDownstreamConnectionTermination);
  if (router_) router_->onDownstreamReset();
  finished_ = true;
  writeAccessLog();
}

void ActiveRequest::onDownstreamProtocolError(int status) {
  if (finished_) return;
  flags_ |= kDownstreamProtocolError;
  countFlags(worker_.stats, kDownstreamProtocolError);
  if (router_) router_->onDownstreamReset();
  status_ = status;
  finished_ = true;
  writeAccessLog();
}

void ActiveRequest::applyResponseFilters(int status, core::http::HeaderMap& headers) {
  telemetry_.onResponse(headers, worker_.metrics);
  for (size_t i = std::min(nextFilter_, filters_.size()); i-- > 0;) {
    filters_[i]->onResponseHeaders(*this, status, headers);
  }
  if (flags_ && status >= 400) {
    std::string f = responseFlagsString(flags_);
    headers.set(kResponseFlagsHeader, f);
  } else if (flags_ & (kUpstreamRetryLimitExceeded | kFaultInjected | kDelayInjected)) {
    headers.set(kResponseFlagsHeader, responseFlagsString(flags_));
  }
  if (!state_.keepAlive || connection_.isDraining()) headers.set("connection", "close");
}

void ActiveRequest::sendLocalReply(int status, std::string_view body, uint32_t flags,
                                   core::http::HeaderMap* extra) {
  if (finished_ || responseStarted_) return;
  flags_ |= flags;
  countFlags(worker_.stats, flags);
  core::http::HeaderMap headers;
  if (extra) headers = *extra;
  applyResponseFilters(status, headers);
  status_ = status;
  responseStarted_ = true;
  scratch_.clear();
  // A reply before the request's body has arrived ends the connection (the rest of the body
  // would be read as the next request): say so, so the client does not reuse it.
  bool closing = !state_.keepAlive || connection_.isDraining() ||
                 (!requestComplete_ && !endsWithHead());
  core::http::appendLocalReply(scratch_, {.status = status, .body = body, .close = closing,
                                          .headRequest = headRequest_, .headers = &headers});
  bytesSent_ += body.size();
  connection_.write(std::move(scratch_));
  scratch_ = std::string();
  responseComplete_ = true;
  finish();
}

void ActiveRequest::encodeHeaders(int status, std::string_view reason,
                                  core::http::HeaderMap& headers, bool chunked, bool hasLength) {
  if (finished_) return;
  status_ = status;
  responseStarted_ = true;
  // Hop-by-hop lines describe the upstream connection, not ours.
  headers.remove("connection");
  headers.remove("keep-alive");
  headers.remove("proxy-connection");
  headers.remove("transfer-encoding");
  bool bodyless = headRequest_ || status == 204 || status == 304 || (status >= 100 && status < 200);
  responseChunked_ = false;
  if (status == 101) {
    headers.set("connection", "upgrade");
  } else if (!bodyless && (chunked || !hasLength)) {
    if (state_.version.minor >= 1) {
      headers.set("transfer-encoding", "chunked");
      responseChunked_ = true;
    } else {
      state_.keepAlive = false;  // an HTTP/1.0 client reads to the close
    }
  }
  applyResponseFilters(status, headers);
  core::http::appendResponseHead(out_, status, headers, reason);
}

void ActiveRequest::encodeData(std::string_view piece) {
  if (finished_ || piece.empty()) return;
  bytesSent_ += piece.size();
  if (responseChunked_) {
    core::http::ChunkHeader size(piece.size());
    out_.reserve(out_.size() + size.view().size() + piece.size() + 2);
    out_.append(size.view());
    out_.append(piece);
    out_.append(core::http::kCrlf);
  } else {
    out_.append(piece);
  }
}

void ActiveRequest::encodeComplete() {
  if (finished_) return;
  if (responseChunked_) out_.append(core::http::kLastChunk);
  flushResponse();
  responseComplete_ = true;
  finish();
}

void ActiveRequest::flushResponse() {
  if (out_.empty() || finished_) return;
  connection_.writeCopy(out_);
  out_.clear();
}

void ActiveRequest::resetStream(uint32_t flags) {
  if (finished_) return;
  flushResponse();  // what the client already has a right to, before the close
  flags_ |= flags;
  countFlags(worker_.stats, flags);
  finished_ = true;
  writeAccessLog();
  connection_.closeNow();
}

void ActiveRequest::startTunnel() {
  flushResponse();  // the 101 head
  tunnel_ = true;
  connection_.enterTunnel();
}

void ActiveRequest::tunnelWrite(std::string_view data) {
  bytesSent_ += data.size();
  flushResponse();
  connection_.write(std::string(data));
}

void ActiveRequest::endTunnel() {
  if (finished_) return;
  finished_ = true;
  writeAccessLog();
  connection_.onRequestFinished(false);
}

void ActiveRequest::finish() {
  if (finished_) return;
  // The client may still be sending a body we no longer need; then the connection closes.
  finished_ = true;
  writeAccessLog();
  connection_.onRequestFinished(state_.keepAlive);
}

void ActiveRequest::recordMetrics() {
  std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - startTime_;
  auto id = state_.headers.get("x-request-id");
  telemetry_.record(worker_.metrics, worker_.options.tracing,
                    {.status = status_, .flags = flags_, .durationMs = elapsed.count(),
                     .requestBytes = bytesReceived_, .responseBytes = bytesSent_},
                    {.authority = state_.authority, .method = state_.methodName,
                     .path = state_.path, .requestId = id.value_or(std::string_view()),
                     .upstreamCluster = upstreamCluster_});
}

void ActiveRequest::writeAccessLog() {
  recordMetrics();
  std::FILE* log = worker_.options.accessLog;
  if (!log) return;
  auto now = std::chrono::steady_clock::now();
  bool upstreamAnswered = !upstreamHost_.empty() && responseStarted_;
  auto header = [this](std::string_view name) {
    return state_.headers.get(name).value_or(std::string_view());
  };
  std::string remote = state_.peer.toString();
  telemetry::AccessLogEntry e;
  e.start = std::chrono::system_clock::now() -
            std::chrono::duration_cast<std::chrono::system_clock::duration>(now - startTime_);
  e.method = state_.methodName;
  e.path = state_.path;
  e.protocol = state_.version.minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
  e.status = status_;
  e.flags = flags_;
  e.details = telemetry::responseCodeDetails(status_, flags_, upstreamAnswered);
  e.upstreamFailure = telemetry_.upstreamFailure();
  e.bytesReceived = bytesReceived_;
  e.bytesSent = bytesSent_;
  e.durationMs = std::chrono::duration_cast<std::chrono::milliseconds>(now - startTime_).count();
  if (e.details == "via_upstream") {
    e.upstreamServiceTimeMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  telemetry_.responseHeadAt() - startTime_)
                                  .count();
  }
  e.forwardedFor = header("x-forwarded-for");
  e.userAgent = header("user-agent");
  e.requestId = header("x-request-id");
  e.authority = state_.authority;
  e.upstreamHost = upstreamHost_;
  e.upstreamCluster = upstreamCluster_;
  e.downstreamRemoteAddress = remote;
  if (route_) e.routeName = route_.route->config->name;
  std::string line = telemetry::formatAccessLog(e, worker_.options.accessLogFormat);
  std::fwrite(line.data(), 1, line.size(), log);
  std::fflush(log);
}

}  // namespace mesh::proxy
