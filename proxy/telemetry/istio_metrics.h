// Istio's standard metrics (istio_requests_total, istio_request_duration_milliseconds,
// istio_request_bytes, istio_response_bytes, istio_tcp_*), with Istio's names, labels, label
// values and buckets, so that Istio's Grafana dashboards and Kiali read mesh unchanged.
//
// IstioMetrics holds the families, registered once in the process registry. Each worker has
// a WorkerMetrics: a cache from what varies per request (direction, peer, service, status,
// flags) to the series, so the label strings are built once per combination and a request
// costs one hash lookup and a few relaxed atomic adds. The cache is the worker's own (no
// lock); the series it points to live as long as the registry.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/metrics/registry.h"
#include "core/model/cluster.h"
#include "proxy/telemetry/peer_metadata.h"

namespace mesh::proxy {
class TransportSecurity;
}

namespace mesh::proxy::telemetry {

// Istio's buckets for the size histograms (bytes): 1 to 10^8, a decade each.
std::vector<double> istioSizeBuckets();

class IstioMetrics {
 public:
  explicit IstioMetrics(core::metrics::Registry& registry);

  core::metrics::Family<core::metrics::Counter>& requests;
  core::metrics::HistogramFamily& duration;
  core::metrics::HistogramFamily& requestBytes;
  core::metrics::HistogramFamily& responseBytes;
  core::metrics::Family<core::metrics::Counter>& tcpSent;
  core::metrics::Family<core::metrics::Counter>& tcpReceived;
  core::metrics::Family<core::metrics::Counter>& tcpOpened;
  core::metrics::Family<core::metrics::Counter>& tcpClosed;
};

// What one finished HTTP request contributes. Views are only read during the call.
struct HttpRecord {
  bool inbound = false;            // reporter=destination (else source)
  bool mtls = false;               // the hop to the peer sidecar was mutual TLS
  std::string_view peerMetadata{}; // the peer's x-mesh-peer-metadata, checked; "" unknown
  std::string_view peerPrincipal{};// from the peer's certificate; "" unknown
  std::string_view service{};      // destination service FQDN; "" unknown
  int status = 0;                  // 0: no response was sent (the client went away)
  uint32_t flags = 0;              // response flags (proxy/http/response_flags.h)
  double durationMs = 0;
  uint64_t requestBytes = 0;
  uint64_t responseBytes = 0;
};

struct TcpSeries {
  core::metrics::Counter* sent = nullptr;      // to the client (downstream)
  core::metrics::Counter* received = nullptr;  // from the client
  core::metrics::Counter* opened = nullptr;
  core::metrics::Counter* closed = nullptr;
};

class WorkerMetrics {
 public:
  // `self`: this workload (namespace included); `security` gives its principal (may be null).
  WorkerMetrics(IstioMetrics& metrics, PeerMetadata self,
                std::shared_ptr<const TransportSecurity> security);
  WorkerMetrics(const WorkerMetrics&) = delete;  // last_ points into http_
  WorkerMetrics& operator=(const WorkerMetrics&) = delete;

  void recordHttp(const HttpRecord& record);
  // The series of outbound TCP connections to `service` (reporter=source); kept by the caller
  // for the life of the connection.
  TcpSeries tcpSeries(std::string_view service, std::string_view peerPrincipal, bool mtls);
  // This workload's metadata as the header carries it, encoded once.
  const std::string& selfHeader() const { return selfHeader_; }
  const PeerMetadata& self() const { return self_; }

 private:
  struct HttpSeries {
    core::metrics::Counter* requests;
    core::metrics::Histogram* duration;
    core::metrics::Histogram* requestBytes;
    core::metrics::Histogram* responseBytes;
  };
  struct KeyView {
    bool inbound, mtls;
    int status;
    uint32_t flags;
    std::string_view peer, principal, service;
    bool operator==(const KeyView&) const = default;
  };
  struct Key {
    bool inbound, mtls;
    int status;
    uint32_t flags;
    std::string peer, principal, service;
    KeyView view() const { return {inbound, mtls, status, flags, peer, principal, service}; }
  };
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(const KeyView& k) const;
    size_t operator()(const Key& k) const { return (*this)(k.view()); }
  };
  struct KeyEq {
    using is_transparent = void;
    bool operator()(const KeyView& a, const KeyView& b) const { return a == b; }
    bool operator()(const Key& a, const KeyView& b) const { return a.view() == b; }
    bool operator()(const KeyView& a, const Key& b) const { return a == b.view(); }
    bool operator()(const Key& a, const Key& b) const { return a.view() == b.view(); }
  };

  // The label values (in IstioMetrics' label order) for a request or connection.
  std::vector<std::string> labels(const KeyView& key, std::string_view protocol) const;
  HttpSeries& lookup(const KeyView& key);

  IstioMetrics& metrics_;
  PeerMetadata self_;
  std::string selfHeader_;
  std::shared_ptr<const TransportSecurity> security_;
  std::unordered_map<Key, HttpSeries, KeyHash, KeyEq> http_;
  std::pair<const Key, HttpSeries>* last_ = nullptr;  // the last series looked up
  std::unordered_map<Key, TcpSeries, KeyHash, KeyEq> tcp_;
};

}  // namespace mesh::proxy::telemetry
