// RouterFilter: the last filter. It answers redirects and direct responses, picks the
// weighted destination, applies header operations and rewrites, and forwards the request to
// a host of the destination cluster through the worker's connection pool, with Istio's
// resilience rules: route timeout (504 UT), per-try timeout, retries with back-off on
// another host (URX when they run out), circuit breaking (503 UO), outlier reporting, and
// mirroring. Request bodies stream through; up to retryBufferBytes of a body is also kept so
// that a retry can send it again (a longer body turns retries off for that request).
#pragma once

#include <memory>
#include <string>

#include "core/base/thread_cached.h"
#include "core/loop/timer.h"
#include "proxy/http/filter.h"
#include "proxy/server/cluster_table.h"
#include "proxy/upstream/conn_pool.h"
#include "proxy/upstream/retry_policy.h"
#include "proxy/upstream/upstream_connection.h"

namespace mesh::proxy {

// Made for every routed request: its memory comes from a per-thread cache.
class RouterFilter final : public HttpFilter,
                           public core::ThreadCached<RouterFilter>,
                           private UpstreamCallbacks,
                           private ConnPool::Callbacks {
 public:
  RouterFilter();
  ~RouterFilter() override;

  FilterStatus onRequestHeaders(ActiveRequest& request) override;
  void onResponseHeaders(ActiveRequest& request, int status,
                         core::http::HeaderMap& headers) override;

  // From the ActiveRequest.
  void onRequestData(std::string_view piece);
  void onRequestEnd();
  void onDownstreamWritable();
  void onDownstreamTunnelData(std::string_view data);
  void onDownstreamReset();

 private:
  // ConnPool::Callbacks
  void onPoolReady(std::unique_ptr<UpstreamConnection> connection) override;
  void onPoolFailure(PoolFailure failure, std::string why) override;
  // UpstreamCallbacks
  void onUpstreamHead(core::http::ResponseHead& head) override;
  void onUpstreamBody(std::string_view piece) override;
  void onUpstreamComplete() override;
  void onUpstreamFailure(AttemptFailure failure, std::string_view why) override;
  void onUpstreamTunnelData(std::string_view data) override;
  void onUpstreamTunnelEnd() override;
  void onUpstreamWritable() override;
  void onUpstreamReadDone() override;

  void startAttempt();
  void endAttempt(bool reuse);
  void attemptFailed(AttemptFailure failure, uint32_t flag, const std::string& why);
  bool canRetry() const;
  void scheduleRetry();
  void sendBody(std::string_view piece);
  std::optional<uint64_t> hashFor() const;
  void mirror();
  void onTimeout();

  ActiveRequest* request_ = nullptr;
  const core::model::WeightedCluster* destination_ = nullptr;
  std::string_view clusterName_;  // in the route's config, which outlives the request
  std::shared_ptr<const ClusterInfo> cluster_;
  const RetryPolicy* policy_ = nullptr;  // the route's, which outlives the request
  uint32_t retriesDone_ = 0;
  std::string head_;      // the request head as the upstream gets it
  std::string retained_;  // the body so far, for retries
  std::string unsent_;    // body bytes the current attempt has not been sent yet
  bool bodyOverflow_ = false;
  bool requestEnded_ = false;
  bool chunked_ = false;
  bool responseForwarded_ = false;
  bool tunnel_ = false;
  bool done_ = false;
  Host* host_ = nullptr;
  const Host* lastHost_ = nullptr;
  std::shared_ptr<ConnPool> pool_;
  bool waitingPool_ = false;
  std::unique_ptr<UpstreamConnection> connection_;
  CircuitBreaker::Slot retrySlot_;
  std::unique_ptr<core::Timer> routeTimer_;
  std::unique_ptr<core::Timer> tryTimer_;
  std::unique_ptr<core::Timer> backoffTimer_;
};

// Applies one set/add/remove block to a header map; lines that are not valid HTTP are
// skipped (config is checked, but a bad line must never reach the wire).
void applyHeaderOperations(core::http::HeaderMap& headers,
                           const core::model::HeaderOperations& operations);

}  // namespace mesh::proxy
