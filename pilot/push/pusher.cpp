#include "pilot/push/pusher.h"

#include <malloc.h>

#include <ctime>

#include "core/base/log.h"
#include "core/proto/frame.h"
#include "pilot/compile/gateway.h"
#include "pilot/compile/inbound.h"
#include "pilot/compile/outbound.h"
#include "pilot/compile/scope.h"

namespace mesh::pilot {

namespace {

// First snapshots are megabytes each: after this many bytes of them the heap figures are
// taken too, without waiting for a round.
constexpr std::size_t kHeapAfterBytes = 64u << 20;

}  // namespace

struct Pusher::Proxy {
  std::uint64_t id = 0;
  ProxyInfo info;
  bool delta = false;
  SendFn send;
  // Waiting in the send queue: what to send.
  bool queued = false;
  OutboundPartPtr nextPart;
  InboundPart nextInbound;
  std::uint64_t nextChangeAt = 0;
  // Last sent; `awaiting` until the proxy answers it.
  bool awaiting = false;
  bool writing = false;
  bool dirty = false;  // something changed while awaiting
  std::string sentVersion;
  // Parts are known by id once sent: holding the part itself would keep the previous round's
  // parts (megabytes per scope) alive until every proxy answered.
  std::uint64_t sentPartId = 0;
  InboundPart sentInbound;
  std::uint64_t sentChangeAt = 0;
  // What the proxy runs.
  std::string ackedVersion;
  std::uint64_t ackedPartId = 0;
  std::string nackedVersion, nackReason;
  bool registered = false;
  bool held = false;  // serving, first snapshot held until the warm-up is over
  std::uint64_t pushes = 0;
};

Pusher::Pusher(core::Loop& loop, PushMetrics& metrics, PusherOptions options)
    : loop_(loop),
      metrics_(metrics),
      options_(std::move(options)),
      workloads_(loop, options_.endpointGrace, [this] { workloadsChanged(); }),
      roundTimer_(loop),
      warmupTimer_(loop) {
  if (options_.warmup.count() <= 0) warmup_ = Warmup::over;
  loop_.updateTime();
  startedAt_ = loop_.now();
}

Pusher::~Pusher() = default;

void Pusher::setConfig(ConfigSetPtr config, std::uint64_t changedAt) {
  config_ = std::move(config);
  metrics_.configErrors.set(static_cast<double>(config_->errors.size()));
  schedule(changedAt, std::chrono::milliseconds(0));
}

void Pusher::workloadsChanged() {
  loop_.updateTime();
  schedule(loop_.now(), options_.registryDebounce);
}

void Pusher::schedule(std::uint64_t changedAt, std::chrono::milliseconds delay) {
  if (pendingChangeAt_ == 0 || changedAt < pendingChangeAt_) pendingChangeAt_ = changedAt;
  // A round already due keeps its time: a steady trickle of changes cannot postpone it.
  if (roundTimer_.isActive() && roundTimer_.dueIn() <= delay) return;
  roundTimer_.start(delay, [this] { runRound(); });
}

std::shared_ptr<const MeshView> Pusher::buildView() const {
  RegistryOptions registry{options_.mesh.trustDomain, options_.mesh.domainSuffix};
  auto services = std::make_shared<const ServiceIndex>(config_->resources, workloads_.list(), registry);
  return std::make_shared<const MeshView>(config_, std::move(services), options_.mesh);
}

void Pusher::runRound() {
  if (!config_) return;
  ++round_;
  metrics_.rounds.inc();
  heapAfterWrites_ = true;
  view_.reset();  // built from config_ alone: the old view need not live beside the new one
  view_ = buildView();
  viewChangedAt_ = pendingChangeAt_;
  pendingChangeAt_ = 0;
  metrics_.services.set(static_cast<double>(view_->services().services().size()));
  for (auto& [id, proxy] : proxies_) refresh(*proxy);
  // Scopes no proxy has any more are forgotten.
  for (auto it = parts_.begin(); it != parts_.end();) {
    if (partRound_[it->first] != round_) {
      partRound_.erase(it->first);
      it = parts_.erase(it);
    } else {
      ++it;
    }
  }
  LOG_DEBUG("pilot", "push round ", round_, ": ", proxies_.size(), " proxies, ", parts_.size(),
            " scopes");
  pump();  // when the round sent nothing, this is where its heap figures are taken
}

OutboundPartPtr Pusher::partFor(const std::string& key,
                                const std::function<OutboundConfig()>& compile) {
  auto round = partRound_.find(key);
  if (round != partRound_.end() && round->second == round_) return parts_[key];
  auto part = makeOutboundPart(key, compile(), parts_[key], nextPartId_);
  if (part->id == nextPartId_) ++nextPartId_;
  parts_[key] = part;
  partRound_[key] = round_;
  return part;
}

void Pusher::refresh(Proxy& proxy) {
  if (!view_ || proxy.held) return;
  if (proxy.awaiting || proxy.writing) {
    proxy.dirty = true;
    return;
  }
  proxy.dirty = false;
  OutboundPartPtr part;
  if (proxy.info.gateway) {
    part = partFor(gatewayScopeKey(proxy.info), [&] { return compileGateway(*view_, proxy.info); });
  } else {
    Scope scope(*view_, proxy.info.ns, proxy.info.labels);
    part = partFor(scope.key(), [&] { return compileOutbound(*view_, scope); });
  }
  InboundPart inbound = makeInboundPart(compileInbound(*view_, proxy.info));
  if (proxy.info.gateway) {
    // A gateway has no inbound listener; the policies that select it still apply.
    inbound.listener.clear();
    inbound.clusters.clear();
  }
  if (part->id == proxy.sentPartId && inbound == proxy.sentInbound) return;  // nothing new
  enqueue(proxy, std::move(part), std::move(inbound));
}

void Pusher::enqueue(Proxy& proxy, OutboundPartPtr part, InboundPart inbound) {
  proxy.nextPart = std::move(part);
  proxy.nextInbound = std::move(inbound);
  proxy.nextChangeAt = proxy.sentPartId ? viewChangedAt_ : 0;  // a first snapshot is not a change
  if (!proxy.queued) {
    proxy.queued = true;
    sendQueue_.push_back(proxy.id);
  }
  pump();
}

std::string Pusher::nextVersion() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(stamp) + "/" + std::to_string(nextVersion_++);
}

void Pusher::pump() {
  while (writesInFlight_ < options_.maxWritesInFlight && !sendQueue_.empty()) {
    std::uint64_t id = sendQueue_.front();
    sendQueue_.pop_front();
    auto it = proxies_.find(id);
    if (it == proxies_.end()) continue;
    Proxy& p = *it->second;
    p.queued = false;
    std::string version = nextVersion();
    bool useDelta = p.delta && p.ackedPartId && !p.ackedVersion.empty() &&
                    (p.nextPart->id == p.ackedPartId || p.nextPart->deltaBase == p.ackedPartId);
    std::string message;
    if (useDelta && p.nextPart->id == p.ackedPartId) {
      // Only the inbound half changed: a delta with no outbound items.
      OutboundPart empty;
      empty.outboundTrafficPolicy = p.nextPart->outboundTrafficPolicy;
      message = deltaMessage(version, p.ackedVersion, empty, p.nextInbound);
    } else if (useDelta) {
      message = deltaMessage(version, p.ackedVersion, *p.nextPart, p.nextInbound);
    } else {
      message = snapshotMessage(version, *p.nextPart, p.nextInbound);
    }
    p.writing = true;
    ++writesInFlight_;
    bytesSinceHeap_ += message.size();
    std::weak_ptr<bool> alive = alive_;
    bool sent = p.send(core::encodeFrameBytes(message), [this, alive, id] {
      if (alive.expired()) return;
      auto proxy = proxies_.find(id);
      if (proxy == proxies_.end() || !proxy->second->writing) return;
      proxy->second->writing = false;
      --writesInFlight_;
      pump();
    });
    if (!sent) {
      p.writing = false;
      --writesInFlight_;
      continue;
    }
    metrics_.pushes.series({useDelta ? "delta" : "snapshot"}).inc();
    ++p.pushes;
    p.awaiting = true;
    p.sentVersion = version;
    p.sentPartId = p.nextPart->id;
    p.nextPart.reset();
    p.sentInbound = std::move(p.nextInbound);
    p.sentChangeAt = p.nextChangeAt;
  }
  if (sendQueue_.empty() && writesInFlight_ == 0 &&
      (heapAfterWrites_ || bytesSinceHeap_ >= kHeapAfterBytes)) {
    heapAfterWrites_ = false;
    bytesSinceHeap_ = 0;
    recordHeap();
  }
}

// The allocator's own figures, for pilot_heap_*_bytes: with RSS they tell memory pilot holds
// from memory the allocator keeps free. (Handing the free memory back with malloc_trim after
// each round was measured: it saved 1 to 4 MB of RSS out of 55 to 100, not worth its pause.)
void Pusher::recordHeap() {
#if defined(__GLIBC__)
  const struct mallinfo2 info = mallinfo2();
  metrics_.heapInUse.set(static_cast<double>(info.uordblks + info.hblkhd));
  metrics_.heapFree.set(static_cast<double>(info.fordblks));
#endif
}

std::uint64_t Pusher::connect(ProxyInfo info, bool delta, bool serving, SendFn send) {
  auto proxy = std::make_unique<Proxy>();
  std::uint64_t id = nextProxyId_++;
  proxy->id = id;
  proxy->info = std::move(info);
  proxy->delta = delta;
  proxy->send = std::move(send);
  Proxy& p = *proxy;
  proxies_[id] = std::move(proxy);
  metrics_.connected.set(static_cast<double>(proxies_.size()));
  if (serving) {
    // Its workload is up and its listener serves: it is an endpoint now, not after an ACK.
    registerWorkload(p);
    loop_.updateTime();
    if (warmup_ == Warmup::before &&
        loop_.now() - startedAt_ > static_cast<std::uint64_t>(options_.warmupWithin.count())) {
      warmup_ = Warmup::over;
    }
    if (warmup_ == Warmup::before) {
      warmup_ = Warmup::warming;
      LOG_INFO("pilot", "proxies are coming back already serving: holding their first ",
               "snapshots for ", options_.warmup.count(), " ms while the others reconnect");
      warmupTimer_.start(options_.warmup, [this] { endWarmup(); });
    }
    p.held = warmup_ == Warmup::warming;
  }
  refresh(p);
  return id;
}

void Pusher::endWarmup() {
  warmup_ = Warmup::over;
  int held = 0;
  for (auto& [_, p] : proxies_) {
    held += p->held ? 1 : 0;
    p->held = false;
  }
  LOG_INFO("pilot", "warm-up over: ", held, " proxies reconnected serving, ",
           workloads_.list().size(), " proxy endpoints registered");
  // One round with every endpoint registered so far, for the held proxies and the others.
  roundTimer_.stop();
  if (pendingChangeAt_ == 0) {
    loop_.updateTime();
    pendingChangeAt_ = loop_.now();
  }
  runRound();
}

void Pusher::disconnect(std::uint64_t id) {
  auto it = proxies_.find(id);
  if (it == proxies_.end()) return;
  Proxy& p = *it->second;
  if (p.writing) --writesInFlight_;
  std::string node = p.info.node;
  bool registered = p.registered;
  proxies_.erase(it);
  metrics_.connected.set(static_cast<double>(proxies_.size()));
  if (registered) {
    // Another connection of the same node (a reconnect that raced the close) keeps it.
    bool other = false;
    for (const auto& [_, q] : proxies_) other = other || (q->info.node == node && q->registered);
    if (!other) workloads_.disconnected(node);
  }
  pump();
}

void Pusher::ack(std::uint64_t id, const std::string& version) {
  auto it = proxies_.find(id);
  if (it == proxies_.end()) return;
  Proxy& p = *it->second;
  if (version != p.sentVersion) {
    LOG_WARN("pilot", "proxy ", p.info.node, " acknowledged ", version, ", which is not the version ",
             "last sent (", p.sentVersion, ")");
    return;
  }
  p.awaiting = false;
  p.ackedVersion = version;
  p.ackedPartId = p.sentPartId;
  if (p.sentChangeAt) {
    loop_.updateTime();
    metrics_.convergence.observe(static_cast<double>(loop_.now() - p.sentChangeAt) / 1000.0);
  }
  registerWorkload(p);
  if (p.dirty) refresh(p);
}

void Pusher::registerWorkload(Proxy& p) {
  if (!p.registered && !p.info.address.empty()) {
    p.registered = true;
    Workload w;
    w.name = p.info.node;
    w.ns = p.info.ns;
    w.serviceAccount = p.info.serviceAccount;
    w.identity = p.info.identity;
    w.labels = p.info.labels;
    w.address = p.info.address;
    w.ports = p.info.ports;
    w.sidecarPort = p.info.sidecarPort;
    w.fromProxy = true;
    workloads_.ready(std::move(w));  // may schedule a round; never runs one inline
  }
}

void Pusher::nack(std::uint64_t id, const std::string& version, const std::string& reason) {
  auto it = proxies_.find(id);
  if (it == proxies_.end()) return;
  Proxy& p = *it->second;
  if (version != p.sentVersion) {
    LOG_WARN("pilot", "proxy ", p.info.node, " refused ", version, ", which is not the version ",
             "last sent (", p.sentVersion, ")");
    return;
  }
  metrics_.rejects.inc();
  LOG_WARN("pilot", "proxy ", p.info.node, " refused ", version, ": ", reason);
  p.awaiting = false;
  p.nackedVersion = version;
  p.nackReason = reason;
  if (p.dirty) refresh(p);
}

std::vector<ProxySyncStatus> Pusher::syncStatus() const {
  std::vector<ProxySyncStatus> out;
  for (const auto& [id, p] : proxies_) {
    bool pending = p->queued || p->writing || p->dirty || roundTimer_.isActive();
    out.push_back({p->info.node, p->info.identity, p->sentVersion, p->ackedVersion,
                   p->nackedVersion, p->nackReason, p->delta, p->pushes, pending});
  }
  return out;
}

}  // namespace mesh::pilot
