// ShadowRequest: a mirrored copy of a request (Istio's mirror), sent to another cluster
// and forgotten: its answer is read and dropped, its failure is only logged, and the client
// never waits for it. The Host gets Envoy's "-shadow" suffix so the mirror's logs tell the
// copies apart. It owns itself and ends within a fixed time whatever the upstream does.
#pragma once

#include <memory>
#include <string>

#include "core/loop/timer.h"
#include "proxy/http/request_state.h"
#include "proxy/server/worker_context.h"
#include "proxy/upstream/conn_pool.h"

namespace mesh::proxy {

class ShadowRequest final : private ConnPool::Callbacks, private UpstreamCallbacks {
 public:
  static void send(WorkerContext& worker, const std::string& cluster, const RequestState& request);
  ~ShadowRequest();

 private:
  ShadowRequest(WorkerContext& worker, std::shared_ptr<ConnPool> pool, std::string head,
                core::http::Method method);
  void onPoolReady(std::unique_ptr<UpstreamConnection> connection) override;
  void onPoolFailure(PoolFailure failure, std::string why) override;
  void onUpstreamHead(core::http::ResponseHead&) override {}
  void onUpstreamBody(std::string_view) override {}
  void onUpstreamComplete() override { end(true); }
  void onUpstreamFailure(AttemptFailure, std::string_view) override { end(false); }
  void onUpstreamTunnelData(std::string_view) override {}
  void onUpstreamTunnelEnd() override { end(false); }
  void onUpstreamWritable() override {}
  void end(bool reuse);

  WorkerContext& worker_;
  std::shared_ptr<ConnPool> pool_;
  std::string head_;
  core::http::Method method_;
  bool waiting_ = true;
  bool ended_ = false;
  std::unique_ptr<UpstreamConnection> connection_;
  std::unique_ptr<core::Timer> deadline_;
};

}  // namespace mesh::proxy
