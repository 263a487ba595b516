// ClusterTable: one worker thread's side of the clusters: a load balancer per cluster and a
// connection pool per host. Rebuilt on each config update, keeping the entries whose
// ClusterInfo is carried over so their pooled connections stay warm. Touched only by its
// worker's thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/loop/loop.h"
#include "proxy/server/runtime_config.h"
#include "proxy/upstream/conn_pool.h"
#include "proxy/upstream/load_balancer.h"

namespace mesh::proxy {

class ClusterTable {
 public:
  struct Entry {
    std::shared_ptr<const ClusterInfo> info;
    std::unique_ptr<LoadBalancer> lb;
    std::map<const Host*, std::shared_ptr<ConnPool>> pools;
    std::shared_ptr<const TransportSecurity> security;  // for the pools' TLS
    std::shared_ptr<ConnPool> pool(core::Loop& loop, Host& host);
  };

  ClusterTable(core::Loop& loop, uint64_t seed,
               std::shared_ptr<const TransportSecurity> security = nullptr)
      : loop_(loop), seed_(seed), security_(std::move(security)) {}
  void update(const RuntimeConfig& config);
  Entry* find(std::string_view name);
  void closeIdle();
  // Drops every entry (stop); pools still referenced by requests live until those end.
  void clear();

 private:
  core::Loop& loop_;
  uint64_t seed_;
  std::shared_ptr<const TransportSecurity> security_;
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // Hashed, not ordered: every request looks its cluster up here, and with a thousand
  // services a tree walk is ten string compares on cold cache lines.
  using Entries = std::unordered_map<std::string, Entry, NameHash, std::equal_to<>>;
  Entries entries_;
};

}  // namespace mesh::proxy
