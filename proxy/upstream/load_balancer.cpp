#include "proxy/upstream/load_balancer.h"

#include <algorithm>

namespace mesh::proxy {

namespace {

using Policy = core::model::LoadBalancer::Policy;

// What every policy shares: the eligible hosts for this pick and a generator.
class BaseLb : public LoadBalancer {
 public:
  BaseLb(const ClusterInfo& cluster, uint64_t seed) : cluster_(cluster), rng_(seed) {}

 protected:
  // Healthy hosts, or all of them in panic; `avoid` is left out when another choice exists.
  const std::vector<Host*>& eligible(const LbContext& context) {
    scratch_.clear();
    const auto& hosts = cluster_.hosts();
    for (const auto& h : hosts) {
      if (!cluster_.isEjected(*h)) scratch_.push_back(h.get());
    }
    if (scratch_.size() * 2 < hosts.size()) {
      scratch_.clear();
      for (const auto& h : hosts) scratch_.push_back(h.get());
    }
    if (context.avoid && scratch_.size() > 1) {
      auto it = std::find(scratch_.begin(), scratch_.end(), context.avoid);
      if (it != scratch_.end()) scratch_.erase(it);
    }
    return scratch_;
  }
  // SplitMix64: eight bytes of state. There is one balancer per cluster per worker, and a
  // sidecar may know a thousand clusters: mt19937_64's 2.5 KB each would be most of its heap.
  uint64_t random() {
    uint64_t z = (rng_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

  const ClusterInfo& cluster_;
  uint64_t rng_;
  std::vector<Host*> scratch_;
};

class RoundRobinLb final : public BaseLb {
 public:
  using BaseLb::BaseLb;
  Host* choose(const LbContext& context) override {
    const auto& hosts = eligible(context);
    if (hosts.empty()) return nullptr;
    return hosts[next_++ % hosts.size()];
  }

 private:
  uint64_t next_ = 0;
};

class RandomLb final : public BaseLb {
 public:
  using BaseLb::BaseLb;
  Host* choose(const LbContext& context) override {
    const auto& hosts = eligible(context);
    if (hosts.empty()) return nullptr;
    return hosts[random() % hosts.size()];
  }
};

// Power of two choices: two hosts at random, the one with fewer active requests wins.
class LeastRequestLb final : public BaseLb {
 public:
  using BaseLb::BaseLb;
  Host* choose(const LbContext& context) override {
    const auto& hosts = eligible(context);
    if (hosts.empty()) return nullptr;
    Host* a = hosts[random() % hosts.size()];
    Host* b = hosts[random() % hosts.size()];
    return b->activeRequests.load(std::memory_order_relaxed) <
                   a->activeRequests.load(std::memory_order_relaxed)
               ? b
               : a;
  }
};

class RingHashLb final : public BaseLb {
 public:
  using BaseLb::BaseLb;
  Host* choose(const LbContext& context) override {
    const auto& ring = cluster_.ring();
    if (ring.empty()) return nullptr;
    uint64_t h = context.hash ? *context.hash : random();
    auto it = std::lower_bound(ring.begin(), ring.end(), std::make_pair(h, uint32_t{0}));
    // Walk clockwise to the first host that is not ejected (nor the one to avoid).
    bool panic = eligible(LbContext{}).size() == cluster_.hosts().size() &&
                 std::any_of(cluster_.hosts().begin(), cluster_.hosts().end(),
                             [&](const auto& host) { return cluster_.isEjected(*host); });
    for (size_t step = 0; step < ring.size(); ++step, ++it) {
      if (it == ring.end()) it = ring.begin();
      Host* host = cluster_.hosts()[it->second].get();
      if (!panic && cluster_.isEjected(*host)) continue;
      if (host == context.avoid && cluster_.hosts().size() > 1) continue;
      return host;
    }
    return cluster_.hosts()[ring.front().second].get();
  }
};

}  // namespace

std::unique_ptr<LoadBalancer> makeLoadBalancer(const ClusterInfo& cluster, uint64_t seed) {
  switch (cluster.config().loadBalancer.policy) {
    case Policy::least_request: return std::make_unique<LeastRequestLb>(cluster, seed);
    case Policy::random: return std::make_unique<RandomLb>(cluster, seed);
    case Policy::ring_hash: return std::make_unique<RingHashLb>(cluster, seed);
    case Policy::round_robin:
    case Policy::passthrough: break;
  }
  return std::make_unique<RoundRobinLb>(cluster, seed);
}

}  // namespace mesh::proxy
