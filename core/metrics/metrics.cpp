#include "core/metrics/metrics.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/metrics/exposition.h"

namespace mesh::core::metrics {

std::string_view metricTypeName(MetricType type) {
  switch (type) {
    case MetricType::counter: return "counter";
    case MetricType::gauge: return "gauge";
    case MetricType::histogram: return "histogram";
  }
  return "untyped";
}

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds), counts_(new std::atomic<std::uint64_t>[bounds.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double value) {
  // First bound >= value: Prometheus buckets are "less than or equal". NaN lands in +Inf.
  std::size_t bucket = bounds_.size();
  if (!std::isnan(value)) {
    bucket = static_cast<std::size_t>(
        std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  }
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.cumulative.reserve(bounds_.size() + 1);
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    s.count += counts_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(s.count);
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::span<const double> istioDurationBucketsMs() {
  static constexpr double kBuckets[] = {0.5,    1,      5,       10,      25,     50,   100,
                                        250,    500,    1000,    2500,    5000,   10000, 30000,
                                        60000,  300000, 600000,  1800000, 3600000};
  return kBuckets;
}

FamilyBase::FamilyBase(std::string name, std::string help, MetricType type,
                       std::vector<std::string> labelNames)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      labelNames_(std::move(labelNames)) {
  if (!isValidMetricName(name_)) throw std::invalid_argument("invalid metric name: " + name_);
  for (std::size_t i = 0; i < labelNames_.size(); ++i) {
    const std::string& label = labelNames_[i];
    if (!isValidLabelName(label) || (type_ == MetricType::histogram && label == "le")) {
      throw std::invalid_argument("metric " + name_ + ": invalid label name: " + label);
    }
    if (std::find(labelNames_.begin(), labelNames_.begin() + i, label) !=
        labelNames_.begin() + i) {
      throw std::invalid_argument("metric " + name_ + ": duplicate label name: " + label);
    }
  }
}

void FamilyBase::checkArity(std::size_t values) const {
  if (values != labelNames_.size()) {
    throw std::invalid_argument("metric " + name_ + ": " + std::to_string(values) +
                                " label values for " + std::to_string(labelNames_.size()) +
                                " label names");
  }
}

namespace {

void appendHeader(std::string& out, const FamilyBase& family) {
  out += "# HELP ";
  out += family.name();
  out += ' ';
  appendEscapedHelp(out, family.help());
  out += "\n# TYPE ";
  out += family.name();
  out += ' ';
  out += metricTypeName(family.type());
  out += '\n';
}

void appendSample(std::string& out, std::string_view name, std::string_view suffix,
                  const FamilyBase& family, const std::vector<std::string>& values,
                  double value, std::string_view extraName = {},
                  std::string_view extraValue = {}) {
  out += name;
  out += suffix;
  appendLabels(out, family.labelNames(), values, extraName, extraValue);
  out += ' ';
  appendValue(out, value);
  out += '\n';
}

void renderSeries(std::string& out, const FamilyBase& f, const std::vector<std::string>& labels,
                  const Counter& c) {
  // Written as an integer: a double would lose counts above 2^53.
  out += f.name();
  appendLabels(out, f.labelNames(), labels);
  out += ' ';
  out += std::to_string(c.value());
  out += '\n';
}

void renderSeries(std::string& out, const FamilyBase& f, const std::vector<std::string>& labels,
                  const Gauge& g) {
  appendSample(out, f.name(), "", f, labels, g.value());
}

void renderSeries(std::string& out, const FamilyBase& f, const std::vector<std::string>& labels,
                  const Histogram& h) {
  Histogram::Snapshot s = h.snapshot();
  std::string le;
  for (std::size_t i = 0; i < s.cumulative.size(); ++i) {
    le.clear();
    appendValue(le, i < h.bounds().size() ? h.bounds()[i] : INFINITY);
    appendSample(out, f.name(), "_bucket", f, labels, static_cast<double>(s.cumulative[i]), "le",
                 le);
  }
  appendSample(out, f.name(), "_sum", f, labels, s.sum);
  appendSample(out, f.name(), "_count", f, labels, static_cast<double>(s.count));
}

}  // namespace

template <typename T>
void Family<T>::render(std::string& out) const {
  std::lock_guard lock(mutex_);
  if (series_.empty()) return;
  appendHeader(out, *this);
  for (const auto& [labels, series] : series_) renderSeries(out, *this, labels, *series);
}

HistogramFamily::HistogramFamily(std::string name, std::string help,
                                 std::vector<std::string> labelNames, std::vector<double> bounds)
    : Family<Histogram>(std::move(name), std::move(help), MetricType::histogram,
                        std::move(labelNames)),
      bounds_(std::move(bounds)) {
  if (!bounds_.empty() && std::isinf(bounds_.back()) && bounds_.back() > 0) bounds_.pop_back();
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i]) || (i > 0 && bounds_[i] <= bounds_[i - 1])) {
      throw std::invalid_argument("histogram " + this->name() +
                                  ": bucket bounds must be finite and strictly increasing");
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

}  // namespace mesh::core::metrics
