// The set of metric families one process exposes, rendered in Prometheus' text exposition
// format (version 0.0.4), which Prometheus, Istio's Grafana dashboards and Kiali scrape.
//
// Registration happens at start-up and throws std::invalid_argument for a bad name or for a
// name registered twice with a different type or labels (programmer errors). Registering the
// same name again with the same type and labels returns the existing family, so two
// components can share a metric without wiring it between them.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/metrics/metrics.h"

namespace mesh::core::metrics {

class Registry {
 public:
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

  // A family without labels gets its one series at once, so it renders 0 before first use.
  Family<Counter>& counter(std::string name, std::string help,
                           std::vector<std::string> labelNames = {});
  Family<Gauge>& gauge(std::string name, std::string help,
                       std::vector<std::string> labelNames = {});
  // `bounds` are the finite upper bounds, strictly increasing; +Inf is always added.
  HistogramFamily& histogram(std::string name, std::string help,
                             std::vector<std::string> labelNames, std::vector<double> bounds);

  // The whole exposition, families in registration order.
  std::string render() const;

 private:
  FamilyBase* find(const std::string& name, MetricType type,
                   const std::vector<std::string>& labelNames) const;
  // Returns the family registered under `name`, or the one `make()` builds.
  template <typename F, typename Make>
  F& add(MetricType type, const std::string& name, const std::vector<std::string>& labelNames,
         Make make);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<FamilyBase>> families_;
};

}  // namespace mesh::core::metrics
