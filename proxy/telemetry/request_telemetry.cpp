#include "proxy/telemetry/request_telemetry.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "proxy/http/response_flags.h"

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

// A view of `s` that lives as long as `headers`: `s` itself when its bytes are already in
// the map's arena (a line's value, even once the line is removed), else a copy there.
std::string_view lasting(core::http::HeaderMap& headers, std::string_view s) {
  return headers.owns(s) ? s : headers.store(s);
}

}  // namespace

void RequestTelemetry::onRequest(core::http::HeaderMap& headers, bool inbound,
                                 const TracingOptions& tracing, std::mt19937_64& rng) {
  inbound_ = inbound;
  request_ = &headers;
  IncomingContext incoming = extractTraceContext(headers);
  trace_ = startSpan(incoming, tracing.samplingPercent, rng);
  injectTraceContext(headers, trace_, incoming.lines);
  if (inbound) {
    if (auto xfcc = headers.get("x-forwarded-client-cert")) {
      mtls_ = true;
      peerPrincipal_ = lasting(headers, forwardedUri(*xfcc));
    }
  }
  // Whatever the client sent, believed or not, stops here.
  auto value = headers.take(kPeerMetadataHeader);
  if (inbound && mtls_ && value && isValidPeerMetadata(*value)) {
    peer_ = lasting(headers, *value);
  }
}

core::http::HeaderMap::Entry RequestTelemetry::onUpstream(
    std::shared_ptr<const ClusterInfo> cluster, const WorkerMetrics& metrics) {
  cluster_ = std::move(cluster);
  if (!cluster_ || inbound_) return {};
  if (cluster_->config().tls.mode == core::model::UpstreamTls::Mode::istio_mutual &&
      !metrics.selfHeader().empty()) {
    sentMetadata_ = true;
    return {kPeerMetadataHeader, metrics.selfHeader()};
  }
  return {};
}

void RequestTelemetry::setUpstreamFailure(std::string_view why) {
  // It is written between double quotes in the text log: keep it one clean line.
  upstreamFailure_.assign(why.substr(0, 256));
  for (char& ch : upstreamFailure_) {
    if (ch == '"' || ch == '\n' || ch == '\r') ch = '\'';
  }
}

void RequestTelemetry::onResponse(core::http::HeaderMap& headers, const WorkerMetrics& metrics) {
  responseAt_ = std::chrono::steady_clock::now();
  if (inbound_) {
    // Ours replaces whatever the app put there: an app cannot speak for the sidecar.
    if (mtls_ && !metrics.selfHeader().empty()) {
      headers.set(kPeerMetadataHeader, metrics.selfHeader());
    } else {
      headers.remove(kPeerMetadataHeader);
    }
    return;
  }
  auto value = headers.take(kPeerMetadataHeader);
  if (value && sentMetadata_ && request_ && isValidPeerMetadata(*value)) {
    peer_ = request_->store(*value);
  }
}

void RequestTelemetry::record(WorkerMetrics& metrics, const TracingOptions& tracing,
                              HttpRecord r, const Facts& facts) const {
  r.inbound = inbound_;
  r.mtls = inbound_ ? mtls_ : sentMetadata_;
  r.peerMetadata = peer_;
  r.peerPrincipal = inbound_ ? peerPrincipal_ : std::string_view();
  if (!inbound_ && sentMetadata_) {
    // The handshake accepted the cluster's one expected identity, else the endpoint's.
    const auto& expected = cluster_->config().tls.identities;
    r.peerPrincipal = expected.size() == 1 ? std::string_view(expected.front()) : hostIdentity_;
  }
  if (cluster_ && !cluster_->config().service.empty()) {
    r.service = cluster_->config().service;
  } else if (inbound_) {
    r.service = hostOf(facts.authority);  // what the client asked for, as Istio falls back to
  }
  metrics.recordHttp(r);
  if (trace_.sampled && tracing.spans) tracing.spans->push(zipkinSpan(r, facts, metrics.self()));
}

// A Zipkin v2 span: CLIENT from the calling sidecar, SERVER from the called one; the server's
// parentId is the client's id. Tags follow what Istio's sidecars write.
std::string RequestTelemetry::zipkinSpan(const HttpRecord& r, const Facts& f,
                                         const PeerMetadata& self) const {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  int64_t durationUs = static_cast<int64_t>(r.durationMs * 1000);
  int64_t endUs = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  std::string service = self.app.empty() ? self.workload : self.app;
  if (!self.ns.empty()) service += "." + self.ns;
  std::string name = std::string(r.service.empty() ? hostOf(f.authority) : r.service);
  nlohmann::ordered_json span;
  span["traceId"] = trace_.traceIdHex();
  span["id"] = TraceContext::hex16(trace_.spanId);
  if (trace_.parentId) span["parentId"] = TraceContext::hex16(trace_.parentId);
  span["kind"] = inbound_ ? "SERVER" : "CLIENT";
  span["name"] = name + "/*";
  span["timestamp"] = endUs - durationUs;
  span["duration"] = std::max<int64_t>(durationUs, 1);
  span["localEndpoint"] = {{"serviceName", service.empty() ? "unknown" : service}};
  nlohmann::ordered_json tags;
  tags["component"] = "proxy";
  tags["http.method"] = std::string(f.method);
  tags["http.url"] = "http://" + std::string(f.authority) + std::string(f.path);
  tags["http.status_code"] = std::to_string(r.status);
  tags["response_flags"] = responseFlagsString(r.flags);
  tags["upstream_cluster"] = std::string(f.upstreamCluster.empty() ? "-" : f.upstreamCluster);
  tags["istio.namespace"] = self.ns;
  tags["istio.canonical_service"] = self.app.empty() ? self.workload : self.app;
  tags["reporter"] = inbound_ ? "destination" : "source";
  tags["guid:x-request-id"] = std::string(f.requestId);
  if (r.status == 0 || r.status >= 500) tags["error"] = "true";
  span["tags"] = std::move(tags);
  return span.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace mesh::proxy::telemetry
