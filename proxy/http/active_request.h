// ActiveRequest: one request on a client connection, from its head to the end of its
// response. It owns the request's state, its filter chain (the router last) and the config
// it started with; the HttpConnection owns it and deletes it when both directions are done.
//
// Request direction: the connection hands over the head (start), body pieces and the end;
// the body goes to the router, or is held until the chain reaches it. Response direction:
// the router (or a filter's local reply) calls encodeHeaders / encodeData / encodeComplete,
// which frame the response for the client and gather it: what one upstream read brought
// leaves in one write (flushResponse), and the upstream pauses when the client reads slower
// than the upstream sends.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/base/thread_cached.h"
#include "core/http/header_map.h"
#include "proxy/http/filter.h"
#include "proxy/http/request_state.h"
#include "proxy/router/route_table.h"
#include "proxy/server/worker_context.h"
#include "proxy/telemetry/request_telemetry.h"

namespace mesh::proxy {

class HttpConnection;
class RouterFilter;

// One per request: its memory comes from a per-thread cache (core/base/thread_cached.h).
class ActiveRequest : public core::ThreadCached<ActiveRequest> {
 public:
  ActiveRequest(HttpConnection& connection, WorkerContext& worker, RequestState state,
                std::shared_ptr<const RuntimeConfig> config, const std::string& routeTable);
  ~ActiveRequest();
  ActiveRequest(const ActiveRequest&) = delete;
  ActiveRequest& operator=(const ActiveRequest&) = delete;

  // From the connection.
  void start();
  void onRequestData(std::string_view piece);
  void onRequestComplete();
  void onDownstreamWritable();
  void onDownstreamTunnelData(std::string_view data);
  void onDownstreamClosed();  // the client went away: stop everything (flag DC)
  // The rest of the request (its body) is malformed: stop everything; the connection answers
  // `status` (flag DPE).
  void onDownstreamProtocolError(int status);

  // For filters.
  RequestState& request() { return state_; }
  const RouteMatchResult& route() const { return route_; }
  const RuntimeConfig& config() const { return *config_; }
  WorkerContext& worker() { return worker_; }
  telemetry::RequestTelemetry& telemetry() { return telemetry_; }
  core::Loop& loop() { return worker_.loop; }
  void addFlags(uint32_t flags) { flags_ |= flags; }
  uint32_t flags() const { return flags_; }
  void continueDecoding();
  // Answers here, with `flags` recorded and sent in x-mesh-response-flags. `extra` lines are
  // added (Location for redirects, CORS).
  void sendLocalReply(int status, std::string_view body, uint32_t flags,
                      core::http::HeaderMap* extra = nullptr);
  bool responseStarted() const { return responseStarted_; }
  bool requestComplete() const { return requestComplete_; }
  // The request ends with its head (no body, no upgrade): answered before the parser reached
  // its end, the connection can still carry the next one.
  bool endsWithHead() const {
    return !state_.hasBody() && !state_.upgrade && state_.method != core::http::Method::connect;
  }
  bool finished() const { return finished_; }

  // For the router: the response on its way to the client.
  void encodeHeaders(int status, std::string_view reason, core::http::HeaderMap& headers,
                     bool chunked, bool hasLength);
  void encodeData(std::string_view piece);
  void encodeComplete();
  // Writes what encodeHeaders/encodeData gathered. The router calls it when a read from the
  // upstream has been handled, so a head and the body that came with it leave in one write.
  void flushResponse();
  // The response broke after it started: close the client connection.
  void resetStream(uint32_t flags);
  // After a 101: raw bytes both ways until either side closes.
  void startTunnel();
  void tunnelWrite(std::string_view data);
  void endTunnel();
  bool downstreamBackedUp() const;
  void pauseDownstreamReading();
  void resumeDownstreamReading();
  // `cluster` is the route's, in the config this request holds, so a view of it stays valid
  // as long as the request; the host may belong to a newer cluster and is copied.
  void setUpstreamDescription(std::string_view cluster, std::string_view host) {
    upstreamCluster_ = cluster;
    upstreamHost_.assign(host);
  }

 private:
  void runFilters();
  void finish();
  // At the end, whichever way it came: Istio's metrics, then the access log line.
  void writeAccessLog();
  void recordMetrics();
  void applyResponseFilters(int status, core::http::HeaderMap& headers);

  HttpConnection& connection_;
  WorkerContext& worker_;
  RequestState state_;
  std::shared_ptr<const RuntimeConfig> config_;  // keeps the snapshot alive for this request
  std::string routeTableName_;
  RouteMatchResult route_;
  FilterChain filters_;
  size_t nextFilter_ = 0;
  RouterFilter* router_ = nullptr;  // the last filter, when there is a route
  // Body bytes that came before the router was ready for them.
  std::string heldBody_;
  bool routerStarted_ = false;
  uint32_t flags_ = 0;
  int status_ = 0;
  bool responseStarted_ = false;
  bool responseComplete_ = false;
  bool requestComplete_ = false;
  bool responseChunked_ = false;
  bool headRequest_ = false;
  bool finished_ = false;
  bool tunnel_ = false;
  uint64_t bytesReceived_ = 0;
  uint64_t bytesSent_ = 0;
  std::string_view upstreamCluster_;
  std::string upstreamHost_;
  std::chrono::steady_clock::time_point startTime_;
  std::string scratch_;
  telemetry::RequestTelemetry telemetry_;
  std::string out_;  // response bytes gathered for the next write (see flushResponse)
};

}  // namespace mesh::proxy
