// WorkerContext: what the data path of one worker thread reaches through: its loop, the
// config it currently serves, its cluster table, the shared counters, the options, and a
// random generator. Owned by the Worker; connections and requests borrow it.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "core/loop/loop.h"
#include "proxy/mtls/transport_security.h"
#include "proxy/server/cluster_table.h"
#include "proxy/server/proxy_stats.h"
#include "proxy/server/runtime_config.h"
#include "proxy/telemetry/access_log.h"
#include "proxy/telemetry/istio_metrics.h"
#include "proxy/telemetry/tracing_options.h"

namespace mesh::proxy {

struct ProxyOptions {
  std::map<std::string, std::string> labels;  // this workload's labels (sourceLabels)
  std::string ns;                             // its namespace (sourceNamespace)
  // Who this workload is in Istio's metric labels and the peer metadata exchange.
  telemetry::PeerMetadata workload;
  uint32_t requestHeadersTimeoutMs = 10'000;  // a client must send a whole head in this time
  uint32_t idleTimeoutMs = 300'000;           // a quiet keep-alive client connection closes
  size_t retryBufferBytes = 64 * 1024;        // request bodies up to this are kept for retries
  std::FILE* accessLog = nullptr;             // null: no access log
  telemetry::AccessLogFormat accessLogFormat = telemetry::AccessLogFormat::text;
  telemetry::TracingOptions tracing;  // trace sampling and the span queue for Zipkin
  // The workload's certificate and TLS contexts (proxy/mtls); null: no TLS at all.
  std::shared_ptr<TransportSecurity> security;
};

struct WorkerContext {
  WorkerContext(core::Loop& l, const ProxyOptions& o, ProxyStats& s, uint64_t seed)
      : loop(l),
        options(o),
        stats(s),
        clusters(l, seed, o.security),
        rng(seed),
        metrics(s.istio, o.workload, o.security) {}

  core::Loop& loop;
  const ProxyOptions& options;
  ProxyStats& stats;
  std::shared_ptr<const RuntimeConfig> config;
  ClusterTable clusters;
  std::mt19937_64 rng;
  telemetry::WorkerMetrics metrics;  // this worker's cache of Istio metric series
  bool draining = false;
  std::atomic<uint64_t> activeConnections{0};  // read by the main thread while draining
};

}  // namespace mesh::proxy
