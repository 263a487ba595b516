// Pusher: keeps every connected proxy's config current. It holds, per proxy, what was sent
// and what was acknowledged (Envoy's xDS rules: a NACKed proxy keeps its last good config;
// pilot records the reason and pushes again only when something changes), and runs push
// rounds:
//
// - A round starts after a config load (already debounced by the source) or after the
//   registry changed (debounced here, 100 ms), so a burst becomes one round.
// - The round builds one MeshView, compiles the outbound half once per distinct scope
//   (OutboundPart) and only the small inbound half per proxy; a proxy whose config did not
//   change gets nothing.
// - A proxy with a snapshot still unanswered gets no second one: it is marked and receives
//   the latest state when it answers, so a slow proxy never has a queue of stale snapshots.
// - A proxy that declared delta support and ACKed the previous part gets a `delta` frame.
// - At most maxWritesInFlight frames are being written at once, which bounds the memory a
//   round over thousands of proxies needs.
//
// Endpoint auto-registration: a proxy's workload is handed to ProxyWorkloads on its first
// ACK (ready), or at once when its hello says it is already serving, and given a grace
// period when it disconnects.
//
// Warm-up: a restarted pilot knows the proxies' endpoints only as their proxies come back,
// spread over their reconnect backoff. So that none of them is handed clusters without the
// endpoints of those still on their way (and swaps a working config for a worse one), the
// first time proxies that are already serving say hello, pilot holds their first snapshots
// for `warmup`, registering each endpoint as its hello arrives, then pushes to all of them
// from one view. Proxies without a config get theirs at once: they have nothing to lose.
//
// Ownership: owns proxy states, the registry's proxy workloads, the outbound part cache and
// its timer; borrows the Loop and the metrics. Send functions belong to the server's connections.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/base/clock.h"
#include "core/loop/loop.h"
#include "core/loop/timer.h"
#include "pilot/compile/mesh_view.h"
#include "pilot/push/outbound_part.h"
#include "pilot/push/push_metrics.h"
#include "pilot/registry/proxy_workloads.h"
#include "pilot/source/config_set.h"

namespace mesh::pilot {

struct PusherOptions {
  MeshSettings mesh;
  std::chrono::milliseconds registryDebounce{100};
  // How long a disconnected proxy's endpoint stays registered.
  std::chrono::milliseconds endpointGrace{10'000};
  std::size_t maxWritesInFlight = 16;
  // How long the first snapshots of proxies that reconnect already serving are held (from
  // the first of them); zero: no warm-up.
  std::chrono::milliseconds warmup{2'000};
  // The warm-up only starts this soon after pilot started: later, a serving proxy is one
  // that lost its own connection, and the others are all there.
  std::chrono::milliseconds warmupWithin{60'000};
};

// What /debug/syncz and `mesh proxy-status` show for one proxy.
struct ProxySyncStatus {
  std::string node;
  std::string identity;
  std::string sent;      // version last sent
  std::string acked;     // version last ACKed
  std::string nacked;    // version last NACKed
  std::string nackReason;
  bool delta = false;
  std::uint64_t pushes = 0;
  // A newer config may be on its way though the last one is ACKed: the proxy waits in the
  // send queue or its frame is being written, or a round is due (a change being debounced).
  bool pending = false;
};

class Pusher {
 public:
  // Writes one encoded frame; `written` runs when it left (not if the connection closed
  // first). Returns false when the connection is already closed.
  using SendFn = std::function<bool(std::string frame, std::function<void()> written)>;

  Pusher(core::Loop& loop, PushMetrics& metrics, PusherOptions options);
  ~Pusher();
  Pusher(const Pusher&) = delete;
  Pusher& operator=(const Pusher&) = delete;

  // A new configuration (from the source); `changedAt` in loop milliseconds.
  void setConfig(ConfigSetPtr config, std::uint64_t changedAt);
  // The registry's proxy workloads changed.
  void workloadsChanged();

  // A proxy said hello (identity already checked). Returns its id; its first snapshot is
  // sent at once when config has been loaded, unless it is `serving` and pilot is warming up.
  std::uint64_t connect(ProxyInfo info, bool delta, bool serving, SendFn send);
  void disconnect(std::uint64_t id);
  // ack/nack of `version`; a version never sent is ignored (and logged).
  void ack(std::uint64_t id, const std::string& version);
  void nack(std::uint64_t id, const std::string& version, const std::string& reason);

  std::vector<ProxySyncStatus> syncStatus() const;
  // The current view (null before the first config), for the debug pages.
  std::shared_ptr<const MeshView> view() const { return view_; }
  std::size_t proxies() const { return proxies_.size(); }
  std::uint64_t rounds() const { return round_; }
  std::size_t distinctScopes() const { return parts_.size(); }
  bool warming() const { return warmup_ == Warmup::warming; }
  const ProxyWorkloads& workloads() const { return workloads_; }

 private:
  struct Proxy;
  void schedule(std::uint64_t changedAt, std::chrono::milliseconds delay);
  void runRound();
  std::shared_ptr<const MeshView> buildView() const;
  // The part of scope `key`, compiled (by `compile`) at most once per round.
  OutboundPartPtr partFor(const std::string& key, const std::function<OutboundConfig()>& compile);
  void refresh(Proxy& proxy);
  void registerWorkload(Proxy& proxy);
  void endWarmup();
  void enqueue(Proxy& proxy, OutboundPartPtr part, InboundPart inbound);
  std::string nextVersion();
  void pump();
  void recordHeap();

  core::Loop& loop_;
  PushMetrics& metrics_;
  PusherOptions options_;
  ProxyWorkloads workloads_;
  ConfigSetPtr config_;
  std::shared_ptr<const MeshView> view_;
  std::uint64_t round_ = 0;
  std::uint64_t nextPartId_ = 1;
  std::uint64_t nextProxyId_ = 1;
  std::uint64_t nextVersion_ = 1;
  std::uint64_t pendingChangeAt_ = 0;  // earliest change not yet in a round; 0: none
  std::uint64_t viewChangedAt_ = 0;    // the change the current view carries
  // Parts of the current view by scope key; parts compiled in this round are marked.
  std::map<std::string, OutboundPartPtr> parts_;
  std::map<std::string, std::uint64_t> partRound_;
  std::map<std::uint64_t, std::unique_ptr<Proxy>> proxies_;
  std::deque<std::uint64_t> sendQueue_;
  std::size_t writesInFlight_ = 0;
  // The heap figures are taken once the writes of a round, or of enough first snapshots,
  // are done (see pump()).
  bool heapAfterWrites_ = false;
  std::size_t bytesSinceHeap_ = 0;
  core::Timer roundTimer_;
  enum class Warmup { before, warming, over };
  Warmup warmup_ = Warmup::before;
  std::uint64_t startedAt_ = 0;  // loop ms
  core::Timer warmupTimer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace mesh::pilot
