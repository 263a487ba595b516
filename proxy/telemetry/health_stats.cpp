#include "proxy/telemetry/health_stats.h"

#include "core/metrics/exposition.h"

namespace mesh::proxy::telemetry {
namespace {

using core::metrics::appendEscapedLabelValue;
using core::metrics::appendValue;

void appendType(std::string& out, std::string_view name, std::string_view help,
                std::string_view type) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void appendClusterSample(std::string& out, std::string_view name, const std::string& cluster,
                         double value) {
  out.append(name).append("{cluster=\"");
  appendEscapedLabelValue(out, cluster);
  out.append("\"} ");
  appendValue(out, value);
  out += '\n';
}

// One family with a sample per cluster; `value` reads it from the ClusterInfo.
template <typename Fn>
void appendPerCluster(std::string& out, const RuntimeConfig& config, std::string_view name,
                      std::string_view help, std::string_view type, Fn value) {
  if (config.clusters().empty()) return;
  appendType(out, name, help, type);
  for (const auto& [cluster, info] : config.clusters()) {
    appendClusterSample(out, name, cluster, static_cast<double>(value(*info)));
  }
}

template <typename Field>
uint64_t sumHosts(const ClusterInfo& info, Field field) {
  uint64_t total = 0;
  for (const auto& host : info.hosts()) total += (host.get()->*field).load(std::memory_order_relaxed);
  return total;
}

}  // namespace

void appendHealthStats(std::string& out, const RuntimeConfig& config,
                       std::optional<core::Clock::TimePoint> certificateNotAfter,
                       const core::Clock& clock) {
  appendType(out, "mesh_proxy_config_info", "The config version in force (value 1)", "gauge");
  out.append("mesh_proxy_config_info{version=\"");
  appendEscapedLabelValue(out, config.snapshot().version);
  out.append("\"} 1\n");
  if (certificateNotAfter) {
    appendType(out, "mesh_proxy_certificate_expiry_seconds",
               "Seconds until the workload certificate expires", "gauge");
    std::chrono::duration<double> left = *certificateNotAfter - clock.now();
    out.append("mesh_proxy_certificate_expiry_seconds ");
    appendValue(out, static_cast<double>(static_cast<int64_t>(left.count())));
    out += '\n';
  }
  appendPerCluster(out, config, "mesh_proxy_cluster_hosts", "Hosts of the cluster", "gauge",
                   [](const ClusterInfo& c) { return c.hosts().size(); });
  appendPerCluster(out, config, "mesh_proxy_cluster_hosts_ejected",
                   "Hosts ejected by outlier detection now", "gauge", [](const ClusterInfo& c) {
                     size_t n = 0;
                     for (const auto& host : c.hosts()) n += c.isEjected(*host) ? 1 : 0;
                     return n;
                   });
  appendPerCluster(out, config, "mesh_proxy_cluster_outlier_ejections_total",
                   "Outlier ejections of the cluster's hosts", "counter",
                   [](const ClusterInfo& c) { return sumHosts(c, &Host::ejections); });
  appendPerCluster(out, config, "mesh_proxy_cluster_upstream_connections_active",
                   "Upstream connections open (all workers' pools)", "gauge",
                   [](const ClusterInfo& c) { return sumHosts(c, &Host::activeConnections); });
  appendPerCluster(out, config, "mesh_proxy_cluster_upstream_requests_active",
                   "Requests in flight to the cluster's hosts", "gauge",
                   [](const ClusterInfo& c) { return sumHosts(c, &Host::activeRequests); });
}

}  // namespace mesh::proxy::telemetry
