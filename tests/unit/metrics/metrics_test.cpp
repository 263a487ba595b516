#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/metrics/registry.h"
#include "tests/unit/metrics/prom_parse.h"

using namespace mesh::core::metrics;
using mesh::test::parseWithPrometheusClient;

namespace {
bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}
}  // namespace

TEST_CASE("counters, gauges and histograms render and parse back with their values",
          "[metrics]") {
  Registry registry;
  auto& requests = registry.counter("istio_requests_total", "Total requests.",
                                    {"reporter", "destination_service", "response_code"});
  auto& ok = requests.series({"destination", "reviews.default.svc.cluster.local", "200"});
  auto& notFound = requests.series({"destination", "reviews.default.svc.cluster.local", "404"});
  ok.inc();
  ok.inc(41);
  notFound.inc(3);

  auto& open = registry.gauge("mesh_connections_open", "Open downstream connections.");
  open.series({}).set(7);
  open.series({}).sub(2.5);

  auto& duration = registry.histogram("istio_request_duration_milliseconds",
                                      "Request duration.", {"reporter"},
                                      {istioDurationBucketsMs().begin(),
                                       istioDurationBucketsMs().end()});
  auto& latency = duration.series({"source"});
  for (double ms : {0.3, 0.5, 1.0, 7.0, 7.0, 4000000.0}) latency.observe(ms);

  std::string text = registry.render();
  INFO(text);
  CHECK(contains(text, "# HELP istio_requests_total Total requests.\n"
                       "# TYPE istio_requests_total counter\n"));
  CHECK(contains(text, "# TYPE istio_request_duration_milliseconds histogram\n"));
  CHECK(contains(text, "istio_request_duration_milliseconds_bucket{reporter=\"source\","
                       "le=\"3600000\"} 5\n"));
  CHECK(contains(text, "istio_request_duration_milliseconds_bucket{reporter=\"source\","
                       "le=\"+Inf\"} 6\n"));

  auto parsed = parseWithPrometheusClient(text);
  REQUIRE(parsed.ok);
  CHECK(parsed.families["istio_requests"] == "counter|Total requests.");
  CHECK(parsed.families["mesh_connections_open"] == "gauge|Open downstream connections.");
  CHECK(parsed.families["istio_request_duration_milliseconds"] == "histogram|Request duration.");
  // A missing sample reads as -1, and looking does not add it.
  auto sample = [&](const std::string& key) {
    auto it = parsed.samples.find(key);
    return it == parsed.samples.end() ? -1.0 : it->second;
  };
  CHECK(sample("istio_requests_total{destination_service=\"reviews.default.svc.cluster.local\","
               "reporter=\"destination\",response_code=\"200\"}") == 42);
  CHECK(sample("istio_requests_total{destination_service=\"reviews.default.svc.cluster.local\","
               "reporter=\"destination\",response_code=\"404\"}") == 3);
  CHECK(sample("mesh_connections_open{}") == 4.5);

  const std::string h = "istio_request_duration_milliseconds";
  auto bucket = [&](const char* le) {
    return sample(h + "_bucket{le=\"" + le + "\",reporter=\"source\"}");
  };
  CHECK(bucket("0.5") == 2);  // 0.3 and 0.5: buckets are "less than or equal"
  CHECK(bucket("1") == 3);
  CHECK(bucket("5") == 3);
  CHECK(bucket("10") == 5);
  CHECK(bucket("3600000") == 5);
  CHECK(bucket("+Inf") == 6);
  CHECK(sample(h + "_count{reporter=\"source\"}") == 6);
  CHECK(sample(h + "_sum{reporter=\"source\"}") == Approx(4000015.8));
  // Every Istio bucket plus +Inf, and nothing else.
  int buckets = 0;
  for (const auto& [key, value] : parsed.samples) buckets += key.rfind(h + "_bucket", 0) == 0;
  CHECK(buckets == static_cast<int>(istioDurationBucketsMs().size()) + 1);
}

TEST_CASE("a series handle is stable and counts every increment from several threads",
          "[metrics]") {
  Registry registry;
  auto& family = registry.counter("events_total", "Events.", {"kind"});
  Counter& handle = family.series({"a"});
  CHECK(&family.series({"a"}) == &handle);
  family.series({"b"});  // another series does not move the first
  CHECK(&family.series({"a"}) == &handle);

  constexpr int kThreads = 4, kPerThread = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&handle] {
      for (int i = 0; i < kPerThread; ++i) handle.inc();
    });
  }
  for (auto& t : threads) t.join();
  CHECK(handle.value() == std::uint64_t{kThreads} * kPerThread);
  CHECK(contains(registry.render(), "events_total{kind=\"a\"} 400000\n"));
}

TEST_CASE("an unlabelled family renders zero before first use; a labelled one renders nothing",
          "[metrics]") {
  Registry registry;
  registry.counter("pilot_xds_pushes", "Pushes.");
  registry.counter("labelled_total", "Not yet used.", {"x"});
  std::string text = registry.render();
  CHECK(contains(text, "pilot_xds_pushes 0\n"));
  CHECK_FALSE(contains(text, "labelled_total"));
}

TEST_CASE("registration rejects bad names and conflicting re-registration", "[metrics]") {
  Registry registry;
  CHECK_THROWS_AS(registry.counter("bad-name", ""), std::invalid_argument);
  CHECK_THROWS_AS(registry.counter("ok_total", "", {"bad label"}), std::invalid_argument);
  CHECK_THROWS_AS(registry.counter("dup_total", "", {"a", "a"}), std::invalid_argument);
  CHECK_THROWS_AS(registry.histogram("h", "", {"le"}, {1}), std::invalid_argument);
  CHECK_THROWS_AS(registry.histogram("h2", "", {}, {5, 1}), std::invalid_argument);

  auto& first = registry.counter("shared_total", "Shared.", {"a"});
  CHECK(&registry.counter("shared_total", "Shared.", {"a"}) == &first);
  CHECK_THROWS_AS(registry.gauge("shared_total", "Shared."), std::invalid_argument);
  CHECK_THROWS_AS(registry.counter("shared_total", "Shared.", {"b"}), std::invalid_argument);
  CHECK_THROWS_AS(first.series({"x", "y"}), std::invalid_argument);
}

TEST_CASE("NaN and huge observations land in +Inf without disturbing the finite buckets",
          "[metrics]") {
  Registry registry;
  auto& h = registry.histogram("sizes", "Sizes.", {}, {10, 100}).series({});
  h.observe(1e300);
  h.observe(5);
  auto snap = h.snapshot();
  REQUIRE(snap.cumulative.size() == 3);
  CHECK(snap.cumulative[0] == 1);
  CHECK(snap.cumulative[1] == 1);
  CHECK(snap.cumulative[2] == 2);
  CHECK(snap.count == 2);
  auto parsed = parseWithPrometheusClient(registry.render());
  REQUIRE(parsed.ok);
  CHECK(parsed.samples["sizes_bucket{le=\"+Inf\"}"] == 2);
}

TEST_CASE("past its cap a family folds new label sets into one overflow series",
          "[metrics]") {
  Registry registry;
  auto& requests = registry.counter("istio_requests_total", "Total requests.",
                                    {"destination_service", "response_code"});
  const std::size_t cap = Family<Counter>::kMaxSeries;
  for (std::size_t i = 0; i < cap; ++i) requests.series({"host-" + std::to_string(i), "404"}).inc();
  // A known set still gets its own series; every new one lands in the same overflow series.
  requests.series({"host-7", "404"}).inc();
  for (int i = 0; i < 1000; ++i) {
    requests.series({"attacker-" + std::to_string(i) + ".example", "404"}).inc();
  }
  std::string text = registry.render();
  CHECK(contains(text, "istio_requests_total{destination_service=\"host-7\",response_code=\"404\"} 2\n"));
  CHECK(contains(text,
                 "istio_requests_total{destination_service=\"overflow\",response_code=\"overflow\"} "
                 "1000\n"));
  CHECK_FALSE(contains(text, "attacker-"));
  std::size_t lines = 0;
  for (char c : text) lines += c == '\n';
  CHECK(lines == cap + 1 + 2);  // the series, the overflow one, HELP and TYPE
}
