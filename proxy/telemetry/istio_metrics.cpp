#include "proxy/telemetry/istio_metrics.h"

#include <functional>

#include "proxy/http/response_flags.h"
#include "proxy/mtls/transport_security.h"

namespace mesh::proxy::telemetry {
namespace {

using core::metrics::Counter;
using core::metrics::Histogram;

// Istio's label set, in the order Istio's own sidecars write it.
const std::vector<std::string>& istioLabels() {
  static const std::vector<std::string> kLabels = {
      "reporter",
      "source_workload",
      "source_canonical_service",
      "source_canonical_revision",
      "source_workload_namespace",
      "source_principal",
      "source_app",
      "source_version",
      "source_cluster",
      "destination_workload",
      "destination_workload_namespace",
      "destination_principal",
      "destination_app",
      "destination_version",
      "destination_service",
      "destination_canonical_service",
      "destination_canonical_revision",
      "destination_service_name",
      "destination_service_namespace",
      "destination_cluster",
      "request_protocol",
      "response_code",
      "grpc_response_status",
      "response_flags",
      "connection_security_policy",
  };
  return kLabels;
}

// TCP metrics have no response code or gRPC status.
const std::vector<std::string>& tcpLabels() {
  static const std::vector<std::string> kLabels = [] {
    std::vector<std::string> out;
    for (const auto& l : istioLabels()) {
      if (l != "response_code" && l != "grpc_response_status") out.push_back(l);
    }
    return out;
  }();
  return kLabels;
}

constexpr std::string_view kUnknown = "unknown";

std::string orUnknown(std::string_view v) { return std::string(v.empty() ? kUnknown : v); }

// A workload's labels as Istio derives them: the canonical service is the app label or the
// workload name, the canonical revision the version label or "latest".
void appendWorkload(std::vector<std::string>& out, const PeerMetadata* m,
                    std::string_view principal, bool withCanonical) {
  out.push_back(orUnknown(m ? m->workload : ""));
  if (withCanonical) {
    out.push_back(orUnknown(m ? (m->app.empty() ? m->workload : m->app) : ""));
    out.push_back(m && !m->version.empty() ? m->version : "latest");
  }
  out.push_back(orUnknown(m ? m->ns : ""));
  out.push_back(orUnknown(principal));
  out.push_back(orUnknown(m ? m->app : ""));
  out.push_back(orUnknown(m ? m->version : ""));
}

// "reviews.default.svc.cluster.local" -> name "reviews", namespace "default".
std::pair<std::string, std::string> serviceParts(std::string_view fqdn) {
  if (fqdn.empty()) return {std::string(kUnknown), std::string(kUnknown)};
  size_t dot = fqdn.find('.');
  std::string name(fqdn.substr(0, dot));
  if (dot == std::string_view::npos) return {name, std::string(kUnknown)};
  std::string_view rest = fqdn.substr(dot + 1);
  size_t dot2 = rest.find('.');
  if (dot2 == std::string_view::npos || !rest.substr(dot2 + 1).starts_with("svc")) {
    return {name, std::string(kUnknown)};
  }
  return {name, std::string(rest.substr(0, dot2))};
}

}  // namespace

std::vector<double> istioSizeBuckets() {
  return {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
}

IstioMetrics::IstioMetrics(core::metrics::Registry& r)
    : requests(r.counter("istio_requests_total", "Requests, by source, destination and outcome",
                         istioLabels())),
      duration(r.histogram("istio_request_duration_milliseconds",
                           "Time from the request's first byte to the response's last",
                           istioLabels(),
                           {core::metrics::istioDurationBucketsMs().begin(),
                            core::metrics::istioDurationBucketsMs().end()})),
      requestBytes(r.histogram("istio_request_bytes", "Request body sizes", istioLabels(),
                               istioSizeBuckets())),
      responseBytes(r.histogram("istio_response_bytes", "Response body sizes", istioLabels(),
                                istioSizeBuckets())),
      tcpSent(r.counter("istio_tcp_sent_bytes_total", "Bytes sent to the client on TCP connections",
                        tcpLabels())),
      tcpReceived(r.counter("istio_tcp_received_bytes_total",
                            "Bytes received from the client on TCP connections", tcpLabels())),
      tcpOpened(r.counter("istio_tcp_connections_opened_total", "TCP connections opened",
                          tcpLabels())),
      tcpClosed(r.counter("istio_tcp_connections_closed_total", "TCP connections closed",
                          tcpLabels())) {}

size_t WorkerMetrics::KeyHash::operator()(const KeyView& k) const {
  std::hash<std::string_view> h;
  size_t seed = h(k.peer);
  auto mix = [&seed](size_t v) { seed ^= v + 0x9e3779b97f4a7c15ull + (seed << 6) + (seed >> 2); };
  mix(h(k.principal));
  mix(h(k.service));
  mix(static_cast<size_t>(k.status) * 31 + k.flags);
  mix((k.inbound ? 1u : 0u) | (k.mtls ? 2u : 0u));
  return seed;
}

WorkerMetrics::WorkerMetrics(IstioMetrics& metrics, PeerMetadata self,
                             std::shared_ptr<const TransportSecurity> security)
    : metrics_(metrics),
      self_(std::move(self)),
      selfHeader_(self_.workload.empty() ? std::string() : encodePeerMetadata(self_)),
      security_(std::move(security)) {}

std::vector<std::string> WorkerMetrics::labels(const KeyView& key,
                                               std::string_view protocol) const {
  std::optional<PeerMetadata> peer;
  if (!key.peer.empty()) peer = decodePeerMetadata(key.peer);
  // Our own principal only where a certificate of ours took part in the hop.
  std::string selfPrincipal = key.mtls && security_ ? security_->selfId() : "";
  const PeerMetadata* source = key.inbound ? (peer ? &*peer : nullptr) : &self_;
  const PeerMetadata* destination = key.inbound ? &self_ : (peer ? &*peer : nullptr);
  std::string_view sourcePrincipal = key.inbound ? key.principal : selfPrincipal;
  std::string_view destinationPrincipal = key.inbound ? selfPrincipal : key.principal;
  auto [serviceName, serviceNamespace] = serviceParts(key.service);

  std::vector<std::string> out;
  out.reserve(istioLabels().size());
  out.emplace_back(key.inbound ? "destination" : "source");
  appendWorkload(out, source, sourcePrincipal, true);
  out.push_back(source ? orUnknown(source->cluster) : std::string(kUnknown));
  // Destination labels come in Istio's order: workload, namespace, principal, app, version,
  // then the service, then the canonical names.
  out.push_back(orUnknown(destination ? destination->workload : ""));
  out.push_back(orUnknown(destination ? destination->ns : ""));
  out.push_back(orUnknown(destinationPrincipal));
  out.push_back(orUnknown(destination ? destination->app : ""));
  out.push_back(orUnknown(destination ? destination->version : ""));
  out.push_back(orUnknown(key.service));
  out.push_back(orUnknown(destination ? (destination->app.empty() ? destination->workload
                                                                  : destination->app)
                                      : ""));
  out.push_back(destination && !destination->version.empty() ? destination->version : "latest");
  out.push_back(serviceName);
  out.push_back(serviceNamespace);
  out.push_back(destination ? orUnknown(destination->cluster) : std::string(kUnknown));
  out.emplace_back(protocol);
  if (protocol != "tcp") {
    out.push_back(std::to_string(key.status));
    out.emplace_back("");  // grpc_response_status: empty for plain HTTP, as Istio writes it
  }
  out.push_back(responseFlagsString(key.flags));
  // Only the server side knows how the connection it accepted was secured.
  out.emplace_back(!key.inbound ? "unknown" : key.mtls ? "mutual_tls" : "none");
  return out;
}

WorkerMetrics::HttpSeries& WorkerMetrics::lookup(const KeyView& key) {
  // Requests come in runs of the same series: comparing with the last one is cheaper than
  // hashing its three strings.
  if (last_ && last_->first.view() == key) return last_->second;
  if (auto it = http_.find(key); it != http_.end()) {
    last_ = &*it;
    return it->second;
  }
  // A mesh with many peers and codes keeps the cache bounded; the series stay registered.
  if (http_.size() >= 4096) {
    http_.clear();
    last_ = nullptr;
  }
  std::vector<std::string> values = labels(key, "http");
  HttpSeries series{&metrics_.requests.series(values), &metrics_.duration.series(values),
                    &metrics_.requestBytes.series(values), &metrics_.responseBytes.series(values)};
  Key owned{key.inbound, key.mtls, key.status, key.flags, std::string(key.peer),
            std::string(key.principal), std::string(key.service)};
  last_ = &*http_.emplace(std::move(owned), series).first;
  return last_->second;
}

void WorkerMetrics::recordHttp(const HttpRecord& r) {
  KeyView key{r.inbound, r.mtls, r.status, r.flags, r.peerMetadata, r.peerPrincipal, r.service};
  HttpSeries& s = lookup(key);
  s.requests->inc();
  s.duration->observe(r.durationMs);
  s.requestBytes->observe(static_cast<double>(r.requestBytes));
  s.responseBytes->observe(static_cast<double>(r.responseBytes));
}

TcpSeries WorkerMetrics::tcpSeries(std::string_view service, std::string_view peerPrincipal,
                                   bool mtls) {
  KeyView key{false, mtls, 0, 0, {}, peerPrincipal, service};
  if (auto it = tcp_.find(key); it != tcp_.end()) return it->second;
  if (tcp_.size() >= 4096) tcp_.clear();
  std::vector<std::string> values = labels(key, "tcp");
  TcpSeries series{&metrics_.tcpSent.series(values), &metrics_.tcpReceived.series(values),
                   &metrics_.tcpOpened.series(values), &metrics_.tcpClosed.series(values)};
  Key owned{false, mtls, 0, 0, {}, std::string(peerPrincipal), std::string(service)};
  return tcp_.emplace(std::move(owned), series).first->second;
}

}  // namespace mesh::proxy::telemetry
