#include "proxy/telemetry/request_telemetry.h"

namespace mesh::proxy::telemetry {
namespace {

// The URI= element of an x-forwarded-client-cert value this proxy wrote ("By=...;URI=...").
std::string_view forwardedUri(std::string_view xfcc) {
  size_t at = xfcc.find("URI=");
  if (at == std::string_view::npos) return {};
  std::string_view uri = xfcc.substr(at + 4);
  return uri.substr(0, uri.find(';'));
}

// "reviews:9080" -> "reviews"; "[::1]:80" -> "[::1]".
std::string_view hostOf(std::string_view authority) {
  size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos) return authority;
  size_t bracket = authority.rfind(']');
  if (bracket != std::string_view::npos && bracket > colon) return authority;
  return authority.substr(0, colon);
}

}  // namespace

void RequestTelemetry::onRequest(core::http::HeaderMap& headers, bool inbound) {
  inbound_ = inbound;
  if (inbound) {
    if (auto xfcc = headers.get("x-forwarded-client-cert")) {
      mtls_ = true;
      peerPrincipal_ = std::string(forwardedUri(*xfcc));
    }
    if (auto value = headers.get(kPeerMetadataHeader); value && mtls_) {
      if (decodePeerMetadata(*value)) peer_ = std::string(*value);
    }
  }
  // Whatever the client sent, believed or not, stops here.
  headers.remove(kPeerMetadataHeader);
}

void RequestTelemetry::onUpstream(core::http::HeaderMap& headers,
                                  std::shared_ptr<const ClusterInfo> cluster,
                                  const WorkerMetrics& metrics) {
  cluster_ = std::move(cluster);
  if (!cluster_ || inbound_) return;
  if (cluster_->config().tls.mode == core::model::UpstreamTls::Mode::istio_mutual &&
      !metrics.selfHeader().empty()) {
    headers.set(kPeerMetadataHeader, metrics.selfHeader());
    sentMetadata_ = true;
  }
}

void RequestTelemetry::onResponse(core::http::HeaderMap& headers, const WorkerMetrics& metrics) {
  responseAt_ = std::chrono::steady_clock::now();
  if (inbound_) {
    headers.remove(kPeerMetadataHeader);  // an app cannot speak for the sidecar
    if (mtls_ && !metrics.selfHeader().empty()) headers.set(kPeerMetadataHeader, metrics.selfHeader());
    return;
  }
  auto value = headers.get(kPeerMetadataHeader);
  if (!value) return;
  if (sentMetadata_ && decodePeerMetadata(*value)) peer_ = std::string(*value);
  headers.remove(kPeerMetadataHeader);
}

void RequestTelemetry::record(WorkerMetrics& metrics, HttpRecord r,
                              std::string_view authority) const {
  r.inbound = inbound_;
  r.mtls = inbound_ ? mtls_ : sentMetadata_;
  r.peerMetadata = peer_;
  r.peerPrincipal = inbound_ ? std::string_view(peerPrincipal_) : std::string_view();
  if (!inbound_ && sentMetadata_) {
    // The handshake accepted the cluster's one expected identity, else the endpoint's.
    const auto& expected = cluster_->config().tls.identities;
    r.peerPrincipal = expected.size() == 1 ? std::string_view(expected.front()) : hostIdentity_;
  }
  if (cluster_ && !cluster_->config().service.empty()) {
    r.service = cluster_->config().service;
  } else if (inbound_) {
    r.service = hostOf(authority);  // what the client asked for, as Istio falls back to
  }
  metrics.recordHttp(r);
}

}  // namespace mesh::proxy::telemetry
