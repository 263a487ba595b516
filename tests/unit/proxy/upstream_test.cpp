#include <catch2/catch.hpp>

#include <map>

#include "core/model/json.h"
#include "proxy/upstream/cluster_info.h"
#include "proxy/upstream/load_balancer.h"
#include "proxy/upstream/retry_policy.h"

using namespace mesh;
using namespace mesh::proxy;
using Policy = core::model::LoadBalancer::Policy;

namespace {

core::model::Cluster makeCluster(int hosts, Policy policy = Policy::round_robin) {
  nlohmann::json endpoints = nlohmann::json::array();
  for (int i = 0; i < hosts; ++i) {
    endpoints.push_back({{"address", "127.0.0." + std::to_string(i + 1)}, {"port", 8000}});
  }
  auto c = nlohmann::json{{"name", "c"}, {"endpoints", endpoints}}.get<core::model::Cluster>();
  c.loadBalancer.policy = policy;
  return c;
}

std::shared_ptr<ClusterInfo> build(const core::model::Cluster& c, core::Clock& clock) {
  auto info = ClusterInfo::build(c, clock);
  REQUIRE(info.ok());
  return *info;
}

std::map<const Host*, int> spread(LoadBalancer& lb, int n, const LbContext& ctx = {}) {
  std::map<const Host*, int> counts;
  for (int i = 0; i < n; ++i) ++counts[lb.choose(ctx)];
  return counts;
}

}  // namespace

TEST_CASE("round robin, random and least request spread over all hosts", "[lb]") {
  core::FakeClock clock;
  for (Policy p : {Policy::round_robin, Policy::random, Policy::least_request}) {
    auto info = build(makeCluster(4, p), clock);
    auto lb = makeLoadBalancer(*info, 42);
    auto counts = spread(*lb, 4000);
    REQUIRE(counts.size() == 4);
    for (const auto& [host, n] : counts) {
      CHECK(n > 800);
      CHECK(n < 1200);
    }
  }
}

TEST_CASE("least request picks the less loaded of two choices", "[lb]") {
  core::FakeClock clock;
  auto info = build(makeCluster(2, Policy::least_request), clock);
  info->hosts()[0]->activeRequests = 10;
  auto lb = makeLoadBalancer(*info, 7);
  auto counts = spread(*lb, 1000);
  // P2C with two hosts: the busy one wins only when both picks land on it (1 in 4).
  CHECK(counts[info->hosts()[1].get()] > 650);
  CHECK(counts[info->hosts()[0].get()] < 350);
}

TEST_CASE("ring hash is sticky per key and spreads keys", "[lb]") {
  core::FakeClock clock;
  auto c = makeCluster(3, Policy::ring_hash);
  c.loadBalancer.hashHeader = "x-user";
  auto info = build(c, clock);
  auto lb = makeLoadBalancer(*info, 1);
  std::map<const Host*, int> perHost;
  for (int user = 0; user < 300; ++user) {
    std::string key = "user-";
    key.append(std::to_string(user));
    uint64_t h = hashKey(key);
    Host* first = lb->choose({h});
    for (int again = 0; again < 5; ++again) REQUIRE(lb->choose({h}) == first);
    ++perHost[first];
  }
  REQUIRE(perHost.size() == 3);
  for (const auto& [host, n] : perHost) CHECK(n > 50);
}

TEST_CASE("retries avoid the previous host when another is available", "[lb]") {
  core::FakeClock clock;
  auto info = build(makeCluster(2), clock);
  auto lb = makeLoadBalancer(*info, 3);
  const Host* a = info->hosts()[0].get();
  for (int i = 0; i < 20; ++i) CHECK(lb->choose({std::nullopt, a}) != a);
}

TEST_CASE("circuit breaker refuses past the limit and frees on release", "[breaker]") {
  core::model::ConnectionPool pool;
  pool.maxConnections = 2;
  CircuitBreaker breaker(pool);
  using R = CircuitBreaker::Resource;
  auto a = breaker.tryAcquire(R::connections);
  auto b = breaker.tryAcquire(R::connections);
  REQUIRE(a);
  REQUIRE(b);
  CHECK_FALSE(breaker.tryAcquire(R::connections));
  CHECK(breaker.overflows(R::connections) == 1);
  a.reset();
  CHECK(breaker.tryAcquire(R::connections));
  CHECK(breaker.active(R::connections) == 1);  // the temporary slot went back at once
}

TEST_CASE("outlier detection ejects after consecutive 5xx until the time passes", "[outlier]") {
  core::FakeClock clock;
  auto c = makeCluster(4);
  c.outlier = core::model::OutlierDetection{};
  c.outlier->consecutive5xxErrors = 3;
  c.outlier->baseEjectionTimeMs = 1000;
  c.outlier->maxEjectionPercent = 50;
  auto info = build(c, clock);
  auto* od = info->outlier();
  REQUIRE(od);
  Host& h0 = *info->hosts()[0];
  using R = OutlierDetector::Result;
  od->report(h0, R::error5xx);
  od->report(h0, R::error5xx);
  od->report(h0, R::success);  // a success breaks the streak
  od->report(h0, R::error5xx);
  od->report(h0, R::error5xx);
  CHECK_FALSE(od->isEjected(h0));
  od->report(h0, R::error5xx);
  CHECK(od->isEjected(h0));
  auto lb = makeLoadBalancer(*info, 5);
  CHECK(spread(*lb, 100).count(&h0) == 0);
  clock.advance(std::chrono::milliseconds(999));
  CHECK(od->isEjected(h0));
  clock.advance(std::chrono::milliseconds(2));
  CHECK_FALSE(od->isEjected(h0));
  // The second ejection lasts twice as long.
  for (int i = 0; i < 3; ++i) od->report(h0, R::gatewayError);
  clock.advance(std::chrono::milliseconds(1500));
  CHECK(od->isEjected(h0));
  clock.advance(std::chrono::milliseconds(600));
  CHECK_FALSE(od->isEjected(h0));
}

TEST_CASE("outlier detection respects maxEjectionPercent", "[outlier]") {
  core::FakeClock clock;
  auto c = makeCluster(4);
  c.outlier = core::model::OutlierDetection{};
  c.outlier->consecutiveGatewayErrors = 1;
  c.outlier->maxEjectionPercent = 50;
  auto info = build(c, clock);
  for (const auto& h : info->hosts()) info->outlier()->report(*h, OutlierDetector::Result::localFailure);
  CHECK(info->outlier()->ejectedCount() == 2);
}

TEST_CASE("retry policy: Istio's default and explicit retryOn", "[retry]") {
  auto def = RetryPolicy::fromRoute(std::nullopt);
  CHECK(def.maxRetries() == 2);
  CHECK(def.retriesFailure(AttemptFailure::connectFailure));
  CHECK(def.retriesFailure(AttemptFailure::refused));
  CHECK_FALSE(def.retriesFailure(AttemptFailure::reset));
  CHECK(def.retriesStatus(503));
  CHECK_FALSE(def.retriesStatus(500));

  core::model::Retries r;
  r.attempts = 3;
  r.retryOn = "gateway-error,reset,429";
  auto p = RetryPolicy::fromRoute(r);
  CHECK(p.maxRetries() == 3);
  CHECK(p.retriesStatus(502));
  CHECK(p.retriesStatus(504));
  CHECK(p.retriesStatus(429));
  CHECK_FALSE(p.retriesStatus(500));
  CHECK(p.retriesFailure(AttemptFailure::reset));
  CHECK(p.retriesFailure(AttemptFailure::perTryTimeout));

  r.retryOn = "5xx";
  auto five = RetryPolicy::fromRoute(r);
  CHECK(five.retriesStatus(500));
  CHECK(five.retriesStatus(599));
  CHECK_FALSE(five.retriesStatus(404));

  for (uint32_t n = 1; n < 10; ++n) {
    CHECK(RetryPolicy::backoff(n, 123456789).count() < 250);
  }
}
