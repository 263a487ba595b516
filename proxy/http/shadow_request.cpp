#include "proxy/http/shadow_request.h"

#include "core/base/log.h"
#include "core/http/serializer.h"

namespace mesh::proxy {

namespace {
constexpr std::chrono::seconds kShadowDeadline{10};
}

void ShadowRequest::send(WorkerContext& worker, const std::string& cluster,
                         const RequestState& request) {
  ClusterTable::Entry* entry = worker.clusters.find(cluster);
  if (!entry) return;
  Host* host = entry->lb->choose({});
  if (!host) return;
  core::http::HeaderMap headers = request.headers;
  std::string authority = request.authority;
  size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']') == std::string::npos) {
    authority.insert(colon, "-shadow");
  } else {
    authority += "-shadow";
  }
  headers.set("host", authority);
  headers.remove("connection");
  headers.remove("upgrade");
  std::string head;
  core::http::appendRequestHead(head, request.methodName, request.path, headers);
  auto* shadow = new ShadowRequest(worker, entry->pool(worker.loop, *host), std::move(head),
                                   request.method);
  shadow->pool_->request(*shadow);
}

ShadowRequest::ShadowRequest(WorkerContext& worker, std::shared_ptr<ConnPool> pool,
                             std::string head, core::http::Method method)
    : worker_(worker), pool_(std::move(pool)), head_(std::move(head)), method_(method) {
  deadline_ = std::make_unique<core::Timer>(worker.loop);
  deadline_->start(kShadowDeadline, [this] { end(false); });
}

ShadowRequest::~ShadowRequest() {
  if (waiting_) pool_->cancel(*this);
}

void ShadowRequest::onPoolReady(std::unique_ptr<UpstreamConnection> connection) {
  waiting_ = false;
  connection_ = std::move(connection);
  connection_->attach(*this, method_);
  if (!connection_->write(std::move(head_)).ok()) end(false);
}

void ShadowRequest::onPoolFailure(PoolFailure, std::string why) {
  waiting_ = false;
  LOG_DEBUG("mirror", "shadow request failed: ", why);
  end(false);
}

void ShadowRequest::end(bool reuse) {
  if (ended_) return;
  ended_ = true;
  if (waiting_) {
    pool_->cancel(*this);
    waiting_ = false;
  }
  if (connection_) {
    connection_->detach();
    if (!reuse) connection_->close();
    pool_->release(std::move(connection_));
  }
  deadline_->stop();
  core::deferredDelete(worker_.loop, std::unique_ptr<ShadowRequest>(this));
}

}  // namespace mesh::proxy
