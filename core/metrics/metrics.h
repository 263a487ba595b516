// Counters, gauges and histograms for mesh's own telemetry (Istio's metric names live with the
// code that records them; this unit only knows the Prometheus data model).
//
// Ownership: a Registry owns its families; a family owns its series. A series is created the
// first time a label combination is asked for and lives as long as the registry, so the
// reference that Family::series() returns can be kept and used without another lookup.
//
// The hot path: look the series up once (per connection, per route, per cluster...), keep the
// reference, and call inc()/observe() on it. Those are single relaxed atomic operations and
// never take a lock or touch a map.
//
// Why relaxed atomics in one shared registry rather than one registry per event-loop thread:
// the scrape (/stats/prometheus) runs on whichever thread serves the admin listener, so the
// values are read by another thread in any design, and plain integers would be a data race.
// An uncontended `lock xadd` costs a few nanoseconds, far below anything else a request does,
// and one registry keeps the exposition a single set of series with no merging at scrape
// time. Relaxed ordering is enough because a scrape needs each value eventually, not a
// consistent cut across values. If a benchmark ever shows several loops contending on one
// cache line, per-loop shards summed at render time can be added behind the same API.
#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace mesh::core::metrics {

enum class MetricType { counter, gauge, histogram };
std::string_view metricTypeName(MetricType type);

// A monotonically increasing count. Integer-valued: everything mesh counts is whole events
// or bytes, and an integer add is the cheapest atomic there is.
class Counter {
 public:
  void inc(std::uint64_t by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// A value that goes up and down (connections open, certificate seconds to expiry).
class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void add(double by) { value_.fetch_add(by, std::memory_order_relaxed); }
  void sub(double by) { value_.fetch_sub(by, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Fixed buckets chosen at registration. observe() increments one per-bucket count (not the
// cumulative ones) and the sum; the cumulative counts and _count are derived at render time,
// so _count always equals the +Inf bucket.
class Histogram {
 public:
  // `bounds` are the finite upper bounds, strictly increasing; they belong to the family and
  // outlive the histogram.
  explicit Histogram(std::span<const double> bounds);

  void observe(double value);

  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf
    double sum = 0;
    std::uint64_t count = 0;
  };
  Snapshot snapshot() const;
  std::span<const double> bounds() const { return bounds_; }

 private:
  std::span<const double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // bounds_.size() + 1 (+Inf)
  std::atomic<double> sum_{0};
};

// Istio's buckets for istio_request_duration_milliseconds, so its dashboards' quantiles match.
std::span<const double> istioDurationBucketsMs();

// What every family has, whatever its series type; the registry renders through this.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, MetricType type,
             std::vector<std::string> labelNames);
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& labelNames() const { return labelNames_; }

  // Appends HELP, TYPE and every series in the text exposition format (nothing when the
  // family has no series yet).
  virtual void render(std::string& out) const = 0;

 protected:
  // Throws std::invalid_argument when the count does not match the label names: a
  // programmer error, caught by the first test that records the metric.
  void checkArity(std::size_t values) const;

 private:
  std::string name_;
  std::string help_;
  MetricType type_;
  std::vector<std::string> labelNames_;
};

template <typename T>
class Family : public FamilyBase {
 public:
  using FamilyBase::FamilyBase;

  // The series for these label values, one per label name and in the same order. Takes a
  // lock and may allocate: call it once and keep the reference.
  T& series(std::initializer_list<std::string_view> labelValues) {
    return series(std::vector<std::string>(labelValues.begin(), labelValues.end()));
  }
  T& series(std::vector<std::string> labelValues) {
    checkArity(labelValues.size());
    std::lock_guard lock(mutex_);
    if (series_.size() >= kMaxSeries && !series_.contains(labelValues)) {
      // Label values can come from the network (a Host header, a peer's metadata): past the
      // cap, new combinations share one series whose every label reads "overflow", so no
      // stream of distinct values can grow the registry without bound.
      labelValues.assign(labelValues.size(), "overflow");
    }
    auto& slot = series_[std::move(labelValues)];
    if (!slot) slot = make();
    return *slot;
  }

  // The most distinct label sets a family keeps (plus the one "overflow" set).
  static constexpr std::size_t kMaxSeries = 10000;

  void render(std::string& out) const override;

 protected:
  // Histograms need their bounds and override this (HistogramFamily).
  virtual std::unique_ptr<T> make() const {
    if constexpr (std::is_default_constructible_v<T>) return std::make_unique<T>();
    return nullptr;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> series_;  // sorted: stable output
};

class HistogramFamily : public Family<Histogram> {
 public:
  HistogramFamily(std::string name, std::string help, std::vector<std::string> labelNames,
                  std::vector<double> bounds);
  std::span<const double> bounds() const { return bounds_; }

 protected:
  std::unique_ptr<Histogram> make() const override {
    return std::make_unique<Histogram>(bounds_);
  }

 private:
  std::vector<double> bounds_;
};

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

}  // namespace mesh::core::metrics
