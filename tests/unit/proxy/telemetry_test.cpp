#include <catch2/catch.hpp>

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "proxy/http/response_flags.h"
#include "proxy/telemetry/access_log.h"
#include "proxy/telemetry/istio_metrics.h"
#include "proxy/telemetry/peer_metadata.h"
#include "proxy/telemetry/request_telemetry.h"
#include "proxy/telemetry/trace_context.h"
#include "proxy/telemetry/workload_name.h"

using namespace mesh;
using namespace mesh::proxy::telemetry;

TEST_CASE("peer metadata round-trips and refuses what it cannot trust") {
  PeerMetadata m{"reviews-v1", "default", "reviews", "v1", "Kubernetes"};
  std::string header = encodePeerMetadata(m);
  CHECK(header == "w=reviews-v1,n=default,a=reviews,v=v1,c=Kubernetes");
  CHECK(decodePeerMetadata(header) == m);
  PeerMetadata odd{"a,b=c%d", "ns", "", "1.0 beta", ""};
  CHECK(decodePeerMetadata(encodePeerMetadata(odd)) == odd);
  CHECK(decodePeerMetadata("w=x,z=future") == PeerMetadata{"x", "", "", "", ""});
  CHECK_FALSE(decodePeerMetadata(""));
  CHECK_FALSE(decodePeerMetadata("n=default"));       // no workload
  CHECK_FALSE(decodePeerMetadata("w=x,garbage"));     // a pair without '='
  CHECK_FALSE(decodePeerMetadata("w=x%2"));           // a cut escape
  // The check every request makes agrees with decoding.
  for (std::string_view v : {std::string_view(header), std::string_view("w=x,z=future"),
                             std::string_view(""), std::string_view("n=default"),
                             std::string_view("w=x,garbage"), std::string_view("w=x%2"),
                             std::string_view("w=x,w="), std::string_view("w=,w=x"),
                             std::string_view("=x,w=y"), std::string_view("w=a b"),
                             std::string_view("w=%4a%4A")}) {
    CHECK(isValidPeerMetadata(v) == decodePeerMetadata(v).has_value());
  }
  CHECK(decodePeerMetadata("w=%4a%4A")->workload == "JJ");
  CHECK_FALSE(decodePeerMetadata("w=x%zz"));          // not hex
  CHECK_FALSE(decodePeerMetadata("w=a b"));           // raw bytes outside the set
  CHECK_FALSE(decodePeerMetadata("w=" + std::string(2000, 'x')));
}

TEST_CASE("workload names come from pod names without generated suffixes") {
  CHECK(workloadFromPodName("reviews-v1-5d8f7c9b6-x2k4p") == "reviews-v1");
  CHECK(workloadFromPodName("fluentd-x2k4p") == "fluentd");
  CHECK(workloadFromPodName("db-0") == "db");
  CHECK(workloadFromPodName("standalone") == "standalone");
  CHECK(workloadFromPodName("") == "");
  auto self = selfMetadata("w", "ns", {{"app.kubernetes.io/name", "shop"}, {"version", "v3"}}, "c");
  CHECK(self.app == "shop");
  CHECK(self.version == "v3");
}

TEST_CASE("trace context: traceparent, B3, and what goes to the next hop") {
  std::mt19937_64 rng(7);
  core::http::HeaderMap h;
  h.set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  auto in = extractTraceContext(h);
  REQUIRE(in.valid);
  CHECK(in.spanId == 0x00f067aa0ba902b7ull);
  CHECK(in.sampled == true);
  TraceContext t = startSpan(in, 0, rng);  // the caller's decision wins over 0 %
  CHECK(t.sampled);
  CHECK(t.parentId == 0x00f067aa0ba902b7ull);
  CHECK(t.traceIdHex() == "4bf92f3577b34da6a3ce929d0e0e4736");
  injectTraceContext(h, t, in.lines);
  CHECK(h.count("traceparent") == 1);
  CHECK(*h.get("x-b3-parentspanid") == "00f067aa0ba902b7");
  CHECK(*h.get("traceparent") ==
        "00-4bf92f3577b34da6a3ce929d0e0e4736-" + TraceContext::hex16(t.spanId) + "-01");

  core::http::HeaderMap bad;
  bad.set("traceparent", "00-00000000000000000000000000000000-00f067aa0ba902b7-01");
  CHECK_FALSE(extractTraceContext(bad).valid);
  bad.set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01");
  CHECK_FALSE(extractTraceContext(bad).valid);
  bad.set("traceparent", "zz");
  bad.set("x-b3-traceid", "463ac35c9f6413ad");
  bad.set("x-b3-spanid", "a2fb4a1d1a96d312");
  auto b3 = extractTraceContext(bad);  // a broken traceparent falls back to B3
  REQUIRE(b3.valid);
  CHECK_FALSE(b3.wide);
  CHECK_FALSE(b3.sampled.has_value());
  TraceContext next = startSpan(b3, 100, rng);
  injectTraceContext(bad, next, b3.lines);
  CHECK(bad.count("traceparent") == 1);
  CHECK(*bad.get("x-b3-traceid") == "463ac35c9f6413ad");
  CHECK(bad.get("traceparent")->substr(0, 35) == "00-0000000000000000463ac35c9f6413ad");

  core::http::HeaderMap decisionOnly;  // B3 allows a sampling decision with no ids
  decisionOnly.set("X-B3-Sampled", "0");
  auto decided = extractTraceContext(decisionOnly);
  CHECK_FALSE(decided.valid);
  CHECK_FALSE(startSpan(decided, 100, rng).sampled);

  // A repeated header: nothing is overwritten in place, and exactly one line is left.
  core::http::HeaderMap twice;
  twice.add("x-b3-traceid", "463ac35c9f6413ad");
  twice.add("other", "1");
  twice.add("X-B3-TraceId", "463ac35c9f6413ad");
  twice.add("x-b3-spanid", "a2fb4a1d1a96d312");
  twice.add("x-b3-sampled", "1");
  auto repeated = extractTraceContext(twice);
  REQUIRE(repeated.valid);
  TraceContext child = startSpan(repeated, 0, rng);
  injectTraceContext(twice, child, repeated.lines);
  CHECK(twice.count("x-b3-traceid") == 1);
  CHECK(twice.count("x-b3-spanid") == 1);
  CHECK(*twice.get("x-b3-spanid") == TraceContext::hex16(child.spanId));
  CHECK(*twice.get("x-b3-parentspanid") == "a2fb4a1d1a96d312");
  CHECK(*twice.get("other") == "1");
  CHECK(twice.size() == 6);

  // A parent id the caller sent with an unusable context is dropped, and the lines known
  // before it stay right.
  core::http::HeaderMap orphan;
  orphan.add("x-b3-parentspanid", "a2fb4a1d1a96d312");
  orphan.add("x-b3-sampled", "1");
  orphan.add("traceparent", "zz");
  auto broken = extractTraceContext(orphan);
  CHECK_FALSE(broken.valid);
  TraceContext root = startSpan(broken, 0, rng);
  injectTraceContext(orphan, root, broken.lines);
  CHECK_FALSE(orphan.has("x-b3-parentspanid"));
  CHECK(*orphan.get("x-b3-sampled") == "1");
  CHECK(orphan.get("traceparent")->size() == 55);
  CHECK(orphan.size() == 4);

  core::http::HeaderMap none;
  TraceContext fresh = startSpan(extractTraceContext(none), 100, rng);
  injectTraceContext(none, fresh, TraceHeaderLines::absent());
  CHECK(none.size() == 4);  // traceparent, trace id, span id, sampled; no parent
  CHECK(fresh.sampled);
  CHECK(fresh.parentId == 0);
  CHECK(fresh.traceIdHex().size() == 32);
  CHECK_FALSE(startSpan(IncomingContext{}, 0, rng).sampled);
}

TEST_CASE("access log: Envoy's text format and Istio's JSON keys") {
  AccessLogEntry e;
  e.start = std::chrono::system_clock::time_point(std::chrono::milliseconds(1764115505116));
  e.method = "GET";
  e.path = "/x";
  e.protocol = "HTTP/1.1";
  e.status = 503;
  e.flags = proxy::kUpstreamConnectFailure | proxy::kUpstreamRetryLimitExceeded;
  e.details = responseCodeDetails(503, e.flags, false);
  e.durationMs = 12;
  e.requestId = "id";
  e.authority = "svc";
  e.upstreamHost = "10.0.0.1:80";
  e.upstreamCluster = "c";
  e.downstreamRemoteAddress = "10.0.0.2:5555";
  CHECK(formatAccessLog(e, AccessLogFormat::text) ==
        "[2025-11-26T00:05:05.116Z] \"GET /x HTTP/1.1\" 503 UF,URX "
        "upstream_reset_before_response_started{connection_failure} - \"-\" 0 0 12 - \"-\" \"-\" "
        "\"id\" \"svc\" \"10.0.0.1:80\" c - - 10.0.0.2:5555 - -\n");
  auto j = nlohmann::json::parse(formatAccessLog(e, AccessLogFormat::json));
  CHECK(j["response_code"] == 503);
  CHECK(j["response_flags"] == "UF,URX");
  CHECK(j["user_agent"].is_null());
  CHECK(j["duration"] == 12);
  CHECK(j.size() == 24);
  CHECK(responseCodeDetails(200, 0, true) == "via_upstream");
  CHECK(responseCodeDetails(0, proxy::kDownstreamConnectionTermination, false) ==
        "downstream_remote_disconnect");
}

TEST_CASE("Istio metrics: one series per label set, histograms in Istio's buckets") {
  core::metrics::Registry registry;
  IstioMetrics metrics(registry);
  WorkerMetrics worker(metrics, {"productpage-v1", "default", "productpage", "v1", "K"}, nullptr);
  std::string peer = encodePeerMetadata({"reviews-v2", "default", "reviews", "v2", "K"});
  HttpRecord r{.inbound = false, .mtls = true, .peerMetadata = peer,
               .peerPrincipal = "spiffe://cluster.local/ns/default/sa/reviews",
               .service = "reviews.default.svc.cluster.local", .status = 200, .flags = 0,
               .durationMs = 3, .requestBytes = 0, .responseBytes = 9};
  for (int i = 0; i < 3; ++i) worker.recordHttp(r);
  r.status = 503;
  worker.recordHttp(r);
  r.status = 200;  // back to the first series, which the last-series shortcut no longer holds
  worker.recordHttp(r);
  std::string text = registry.render();
  CHECK(text.find("istio_requests_total{reporter=\"source\",source_workload=\"productpage-v1\"") !=
        std::string::npos);
  CHECK(text.find("destination_workload=\"reviews-v2\"") != std::string::npos);
  CHECK(text.find("destination_service_name=\"reviews\",destination_service_namespace=\"default\"") !=
        std::string::npos);
  CHECK(text.find("response_code=\"200\",grpc_response_status=\"\",response_flags=\"-\","
                  "connection_security_policy=\"unknown\"} 4") != std::string::npos);
  CHECK(text.find("response_code=\"503\",grpc_response_status=\"\",response_flags=\"-\","
                  "connection_security_policy=\"unknown\"} 1") != std::string::npos);
  CHECK(text.find("le=\"100000000\"") != std::string::npos);
  CHECK(text.find("le=\"3600000\"") != std::string::npos);
}

// Hidden (run with "[.bench]"): what telemetry costs one request on the data path, trace
// headers and metric series included.
TEST_CASE("telemetry cost per request", "[.bench]") {
  core::metrics::Registry registry;
  IstioMetrics metrics(registry);
  WorkerMetrics worker(metrics, {"productpage-v1", "default", "productpage", "v1", "K"}, nullptr);
  TracingOptions tracing;
  std::mt19937_64 rng(1);
  constexpr int kRequests = 200000;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRequests; ++i) {
    core::http::HeaderMap h;
    h.set("host", "reviews");
    h.set("user-agent", "bench");
    h.set("x-request-id", "0b5c3f4e-8f7e-4b8e-9c0e-1f2e3d4c5b6a");
    if (std::getenv("BENCH_BASELINE")) continue;  // the header map alone
    proxy::telemetry::RequestTelemetry t;
    if (std::getenv("BENCH_NO_TRACE")) {
      t.onResponse(h, worker);
      worker.recordHttp({.status = 200, .durationMs = 1.5, .responseBytes = 100});
      continue;
    }
    t.onRequest(h, false, tracing, rng);
    t.onResponse(h, worker);
    t.record(worker, tracing,
             {.status = 200, .flags = 0, .durationMs = 1.5, .requestBytes = 0,
              .responseBytes = 100},
             {.authority = "reviews", .method = "GET", .path = "/", .requestId = "x",
              .upstreamCluster = "c"});
  }
  std::chrono::duration<double, std::nano> took = std::chrono::steady_clock::now() - start;
  WARN("telemetry per request: " << took.count() / kRequests << " ns");
}
