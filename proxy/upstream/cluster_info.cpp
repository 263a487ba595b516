#include "proxy/upstream/cluster_info.h"

#include <algorithm>

#include "core/loop/resolver.h"

namespace mesh::proxy {

uint64_t hashKey(std::string_view key) {
  uint64_t h = 1469598103934665603ull;
  for (char c : key) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ull;
  }
  // MurmurHash3's finaliser spreads FNV's weak low bits over the whole word.
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

ClusterInfo::ClusterInfo(const core::model::Cluster& config)
    : config_(config), breaker_(config.pool) {}

core::Result<std::shared_ptr<ClusterInfo>> ClusterInfo::build(const core::model::Cluster& config,
                                                              core::Clock& clock) {
  std::shared_ptr<ClusterInfo> info(new ClusterInfo(config));
  for (const auto& endpoint : config.endpoints) {
    uint32_t port = endpoint.sidecarPort ? endpoint.sidecarPort : endpoint.port;
    if (port == 0 || port > 65535) {
      return core::error(core::Code::invalid, "cluster " + config.name + ": endpoint " +
                                                  endpoint.address + " has no valid port");
    }
    auto address = core::SocketAddress::parse(endpoint.address, static_cast<uint16_t>(port));
    if (!address.ok()) {
      auto resolved = core::resolveBlocking(endpoint.address);
      if (!resolved.ok() || resolved->empty()) {
        return core::error(core::Code::invalid, "cluster " + config.name + ": cannot resolve " +
                                                    endpoint.address);
      }
      address = core::SocketAddress::parse(resolved->front(), static_cast<uint16_t>(port));
      if (!address.ok()) return address.status();
    }
    info->hosts_.push_back(std::make_unique<Host>(endpoint, *address));
  }
  if (config.outlier &&
      (config.outlier->consecutive5xxErrors || config.outlier->consecutiveGatewayErrors)) {
    info->outlier_ = std::make_unique<OutlierDetector>(*config.outlier, clock, info->hosts_);
  }
  if (config.loadBalancer.policy == core::model::LoadBalancer::Policy::ring_hash) info->buildRing();
  return info;
}

void ClusterInfo::buildRing() {
  // Envoy's minimum ring size; each host gets a share proportional to its weight.
  constexpr uint64_t kRingSize = 1024;
  uint64_t totalWeight = 0;
  for (const auto& h : hosts_) totalWeight += std::max<uint32_t>(h->config.weight, 1);
  for (uint32_t i = 0; i < hosts_.size(); ++i) {
    uint64_t weight = std::max<uint32_t>(hosts_[i]->config.weight, 1);
    uint64_t entries = std::max<uint64_t>(1, kRingSize * weight / totalWeight);
    std::string base = hosts_[i]->address.toString() + "_";
    for (uint64_t k = 0; k < entries; ++k) {
      ring_.emplace_back(hashKey(base + std::to_string(k)), i);
    }
  }
  std::sort(ring_.begin(), ring_.end());
}

}  // namespace mesh::proxy
