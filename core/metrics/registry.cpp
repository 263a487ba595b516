#include "core/metrics/registry.h"

#include <stdexcept>

namespace mesh::core::metrics {

FamilyBase* Registry::find(const std::string& name, MetricType type,
                           const std::vector<std::string>& labelNames) const {
  for (const auto& family : families_) {
    if (family->name() != name) continue;
    if (family->type() != type || family->labelNames() != labelNames) {
      throw std::invalid_argument("metric " + name +
                                  " registered twice with a different type or labels");
    }
    return family.get();
  }
  return nullptr;
}

template <typename F, typename Make>
F& Registry::add(MetricType type, const std::string& name,
                 const std::vector<std::string>& labelNames, Make make) {
  std::lock_guard lock(mutex_);
  if (FamilyBase* existing = find(name, type, labelNames)) return static_cast<F&>(*existing);
  std::unique_ptr<F> family = make();
  F& ref = *family;
  families_.push_back(std::move(family));
  if (labelNames.empty()) ref.series(std::vector<std::string>{});
  return ref;
}

Family<Counter>& Registry::counter(std::string name, std::string help,
                                   std::vector<std::string> labelNames) {
  return add<Family<Counter>>(MetricType::counter, name, labelNames, [&] {
    return std::make_unique<Family<Counter>>(name, help, MetricType::counter, labelNames);
  });
}

Family<Gauge>& Registry::gauge(std::string name, std::string help,
                               std::vector<std::string> labelNames) {
  return add<Family<Gauge>>(MetricType::gauge, name, labelNames, [&] {
    return std::make_unique<Family<Gauge>>(name, help, MetricType::gauge, labelNames);
  });
}

HistogramFamily& Registry::histogram(std::string name, std::string help,
                                     std::vector<std::string> labelNames,
                                     std::vector<double> bounds) {
  return add<HistogramFamily>(MetricType::histogram, name, labelNames, [&] {
    return std::make_unique<HistogramFamily>(name, help, labelNames, std::move(bounds));
  });
}

std::string Registry::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& family : families_) family->render(out);
  return out;
}

}  // namespace mesh::core::metrics
