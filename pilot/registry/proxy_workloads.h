// ProxyWorkloads: endpoints registered by connected proxies (auto-registration). A proxy's
// workload is added once the proxy is ready (it ACKed its first snapshot) and removed a grace
// period after it disconnects, so a proxy that reconnects at once (pilot restart, network
// blip) does not make its endpoint flap in every other proxy's config.
//
// The identity check happens before this: the server only registers a workload whose
// namespace and service account are those of the proxy's certificate.
//
// Ownership: owns one timer per workload in its grace period; the Loop is borrowed.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/loop/loop.h"
#include "core/loop/timer.h"
#include "pilot/registry/service.h"

namespace mesh::pilot {

class ProxyWorkloads {
 public:
  // Runs after every change of the set.
  using Changed = std::function<void()>;

  ProxyWorkloads(core::Loop& loop, std::chrono::milliseconds grace, Changed changed);
  ~ProxyWorkloads();
  ProxyWorkloads(const ProxyWorkloads&) = delete;
  ProxyWorkloads& operator=(const ProxyWorkloads&) = delete;

  // Adds or replaces the workload of node `workload.name`, cancelling a pending removal.
  void ready(Workload workload);
  // Starts the grace period of `node`; the workload goes when it ends.
  void disconnected(const std::string& node);

  std::vector<Workload> list() const;
  std::size_t size() const { return workloads_.size(); }
  bool leaving(const std::string& node) const { return grace_.count(node) > 0; }

 private:
  core::Loop& loop_;
  std::chrono::milliseconds graceTime_;
  Changed changed_;
  std::map<std::string, Workload> workloads_;
  std::map<std::string, std::unique_ptr<core::Timer>> grace_;
};

}  // namespace mesh::pilot
