#include "pilot/registry/proxy_workloads.h"

#include "core/base/log.h"

namespace mesh::pilot {

ProxyWorkloads::ProxyWorkloads(core::Loop& loop, std::chrono::milliseconds grace, Changed changed)
    : loop_(loop), graceTime_(grace), changed_(std::move(changed)) {}

ProxyWorkloads::~ProxyWorkloads() = default;

void ProxyWorkloads::ready(Workload workload) {
  std::string node = workload.name;
  grace_.erase(node);
  auto it = workloads_.find(node);
  bool same = it != workloads_.end() && it->second.address == workload.address &&
              it->second.labels == workload.labels && it->second.ports == workload.ports &&
              it->second.sidecarPort == workload.sidecarPort;
  if (same) return;
  LOG_INFO("pilot", "endpoint ", node, " ", workload.address, " registered");
  workloads_[node] = std::move(workload);
  changed_();
}

void ProxyWorkloads::disconnected(const std::string& node) {
  if (!workloads_.count(node) || grace_.count(node)) return;
  auto timer = std::make_unique<core::Timer>(loop_);
  timer->start(graceTime_, [this, node] {
    LOG_INFO("pilot", "endpoint ", node, " removed after its proxy left");
    workloads_.erase(node);
    // Erasing the timer destroys it inside its own callback, which Timer allows.
    grace_.erase(node);
    changed_();
  });
  grace_[node] = std::move(timer);
}

std::vector<Workload> ProxyWorkloads::list() const {
  std::vector<Workload> out;
  out.reserve(workloads_.size());
  for (const auto& [node, w] : workloads_) out.push_back(w);
  return out;
}

}  // namespace mesh::pilot
