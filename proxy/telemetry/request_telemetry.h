// RequestTelemetry: one HTTP request's part in Istio's metrics. It carries the peer metadata
// exchange through the request (proxy/telemetry/peer_metadata.h): on the inbound side it
// takes the calling sidecar's metadata off the request (believed only over mTLS) and puts
// ours on the response; on the outbound side it puts ours on requests that go over mTLS to
// another sidecar and takes the server sidecar's off the response. Either way the header
// never reaches an application. It also continues or starts the trace (trace_context.h): the
// request goes on with this proxy's span in its traceparent and B3 headers. At the end it
// records the request in the worker's series and, when sampled, queues its span for Zipkin.
//
// Owned by the ActiveRequest; holds the destination cluster alive as long as the request.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/http/header_map.h"
#include <random>

#include "proxy/telemetry/istio_metrics.h"
#include "proxy/telemetry/trace_context.h"
#include "proxy/telemetry/tracing_options.h"
#include "proxy/upstream/cluster_info.h"

namespace mesh::proxy::telemetry {

class RequestTelemetry {
 public:
  // The request head from the client. `inbound`: it came through the inbound listener, whose
  // connection manager has already replaced x-forwarded-client-cert with what the handshake
  // proved (absent: plain text). `headers` is the request's own map, which lives as long as
  // the request: the peer's identity and metadata are kept in its arena.
  void onRequest(core::http::HeaderMap& headers, bool inbound, const TracingOptions& tracing,
                 std::mt19937_64& rng);
  // The router's destination, before the upstream head is built. Returns the line that head
  // alone carries, if any: our metadata, on a mesh mTLS hop. It never enters the request's
  // map, so nothing else built from the map (a mirror) sends it to a hop that is not mTLS.
  core::http::HeaderMap::Entry onUpstream(std::shared_ptr<const ClusterInfo> cluster,
                                          const WorkerMetrics& metrics);
  // Why the last connect attempt failed, for the access log.
  void setUpstreamFailure(std::string_view why);
  const std::string& upstreamFailure() const { return upstreamFailure_; }
  // The host an attempt went to; its identity is the destination principal.
  void onUpstreamHost(const Host& host) { hostIdentity_ = host.config.identity; }
  // The response head on its way to the client (an upstream answer or a local reply).
  void onResponse(core::http::HeaderMap& headers, const WorkerMetrics& metrics);
  // When the response head was ready (for the access log's upstream service time).
  std::chrono::steady_clock::time_point responseHeadAt() const { return responseAt_; }
  // What the span and the service fallback need from the request.
  struct Facts {
    std::string_view authority, method, path, requestId, upstreamCluster;
  };
  // `record` has the outcome (status, flags, duration, bytes); the rest is filled in here.
  void record(WorkerMetrics& metrics, const TracingOptions& tracing, HttpRecord record,
              const Facts& facts) const;
  const TraceContext& trace() const { return trace_; }

 private:
  std::string zipkinSpan(const HttpRecord& r, const Facts& f, const PeerMetadata& self) const;

  bool inbound_ = false;
  bool mtls_ = false;
  bool sentMetadata_ = false;
  core::http::HeaderMap* request_ = nullptr;  // the request's headers, from onRequest
  std::string_view peer_;           // the peer's metadata, checked; in request_'s arena
  std::string_view peerPrincipal_;  // inbound: the client's SPIFFE id; in request_'s arena
  std::string_view hostIdentity_;  // outbound: points into cluster_'s host
  std::shared_ptr<const ClusterInfo> cluster_;
  std::chrono::steady_clock::time_point responseAt_{};
  TraceContext trace_;
  std::string upstreamFailure_;
};

}  // namespace mesh::proxy::telemetry
