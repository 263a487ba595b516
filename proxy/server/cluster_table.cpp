#include "proxy/server/cluster_table.h"

namespace mesh::proxy {

std::shared_ptr<ConnPool> ClusterTable::Entry::pool(core::Loop& loop, Host& host) {
  auto& slot = pools[&host];
  if (!slot) slot = std::make_shared<ConnPool>(loop, info, host, security);
  return slot;
}

void ClusterTable::update(const RuntimeConfig& config) {
  Entries next;
  for (const auto& [name, info] : config.clusters()) {
    auto old = entries_.find(name);
    if (old != entries_.end() && old->second.info == info) {
      next[name] = std::move(old->second);
      continue;
    }
    Entry entry;
    entry.info = info;
    entry.security = security_;
    entry.lb = makeLoadBalancer(*info, seed_ + next.size());
    next[name] = std::move(entry);
  }
  for (auto& [name, entry] : entries_) {
    if (entry.info) {
      for (auto& [host, pool] : entry.pools) pool->closeIdle();
    }
  }
  entries_ = std::move(next);
}

ClusterTable::Entry* ClusterTable::find(std::string_view name) {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

void ClusterTable::closeIdle() {
  for (auto& [name, entry] : entries_) {
    for (auto& [host, pool] : entry.pools) pool->closeIdle();
  }
}

void ClusterTable::clear() {
  closeIdle();
  entries_.clear();
}

}  // namespace mesh::proxy
