#include "proxy/server/proxy_server.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <future>
#include <sstream>

#include "core/base/heap.h"
#include "core/base/log.h"
#include "core/base/resident.h"
#include "core/loop/heap_trimmer.h"
#include "core/loop/signals.h"
#include "core/loop/timer.h"
#include "proxy/admin/admin_server.h"
#include "proxy/admin/certs_page.h"
#include "proxy/http/spare_buffers.h"
#include "proxy/server/worker.h"
#include "proxy/telemetry/health_stats.h"
#include "proxy/telemetry/zipkin_exporter.h"

namespace mesh::proxy {

using core::Code;
using core::Result;
using core::SocketAddress;

core::Result<core::model::Snapshot> loadSnapshotFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return core::error(Code::not_found, path + ": cannot open");
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json json = nlohmann::json::parse(text.str(), nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return core::error(Code::invalid, path + ": not a JSON object");
  }
  auto snapshot = core::model::parseSnapshot(json);
  if (!snapshot.ok()) return core::error(Code::invalid, path + ": " + snapshot.status().message());
  return snapshot;
}

namespace {

// Binds (without listening) a SO_REUSEPORT socket to pick a free port for a listener that
// asked for port 0; the workers then bind the same port. The socket stays open for the
// life of the process so that nobody else takes the port between the two binds.
Result<uint16_t> reservePort(const SocketAddress& address, std::vector<int>& reserved) {
  int fd = ::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return core::error(Code::internal, "socket failed");
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (::bind(fd, address.raw(), address.rawSize()) != 0) {
    ::close(fd);
    return core::error(Code::unavailable, "bind " + address.toString() + " failed");
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  reserved.push_back(fd);
  return SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&bound)).port();
}

}  // namespace

struct ProxyServer::State {
  explicit State(ServerOptions o)
      : options(std::move(o)), stats(registry), jwks(registry, options.jwks) {}

  ServerOptions options;
  core::metrics::Registry registry;
  ProxyStats stats;
  authn::JwksFetcher jwks;  // keys of RequestAuthentication jwksUri rules, on its own thread
  core::Loop loop;
  std::shared_ptr<const RuntimeConfig> config;
  // Listener name -> the address its workers bound (the real port when 0 was asked).
  std::map<std::string, SocketAddress> bound;
  std::vector<int> reserved;
  std::vector<std::unique_ptr<Worker>> workers;
  std::unique_ptr<AdminServer> admin;
  std::unique_ptr<AdminServer> readiness;
  std::unique_ptr<AdminServer> prometheus;  // the stats port
  std::unique_ptr<core::Signal> sigterm, sigint, sighup;
  std::unique_ptr<core::Timer> drainTimer;
  // Gives the heap back what served requests freed (core/loop/heap_trimmer.h).
  core::HeapTrimmer heapTrimmer{loop};
  bool ready = false;
  bool configLoaded = false;  // from the file, or the first snapshot from pilot
  bool draining = false;
  std::unique_ptr<WorkloadIdentity> identity;
  std::unique_ptr<XdsClient> xds;
  std::unique_ptr<telemetry::ZipkinExporter> zipkin;
  std::chrono::steady_clock::time_point drainDeadline;

  Result<SocketAddress> listenerAddress(const core::model::Listener& l) {
    if (l.port > 65535) return core::error(Code::invalid, "listener " + l.name + ": bad port");
    auto address = SocketAddress::parse(l.address, static_cast<uint16_t>(l.port));
    if (!address.ok()) return address.status();
    if (l.port == 0) {
      auto port = reservePort(*address, reserved);
      if (!port.ok()) return port.status();
      return address->withPort(*port);
    }
    return *address;
  }

  // Binds listeners that are new in `next` on every worker; before start() this runs on
  // the main thread, afterwards through post().
  core::Status addListeners(const core::model::Snapshot& next, bool started) {
    for (const auto& l : next.listeners) {
      if (bound.count(l.name)) continue;
      auto at = listenerAddress(l);
      if (!at.ok()) return at.status();
      bound[l.name] = *at;
      for (auto& w : workers) {
        if (!started) {
          if (core::Status s = w->addListener(l, *at); !s.ok()) return s;
        } else {
          // Wait for the worker: an ACK to pilot and readiness must mean the port is open,
          // and a port that cannot be bound must fail the swap. Workers never wait on the
          // main thread, so this cannot deadlock.
          Worker* raw = w.get();
          auto bind = std::make_shared<std::promise<core::Status>>();
          std::future<core::Status> done = bind->get_future();
          raw->post([raw, l, address = *at, bind] { bind->set_value(raw->addListener(l, address)); });
          if (core::Status s = done.get(); !s.ok()) {
            for (auto& each : workers) {
              Worker* undo = each.get();
              undo->post([undo, name = l.name] { undo->removeListener(name); });
            }
            bound.erase(l.name);
            return core::error(s.code(), "listener " + l.name + ": " + s.message());
          }
        }
      }
      LOG_INFO("proxy", "listener ", l.name, " on ", at->toString());
    }
    return {};
  }

  void removeListeners(const core::model::Snapshot& next) {
    for (auto it = bound.begin(); it != bound.end();) {
      bool kept = false;
      for (const auto& l : next.listeners) kept = kept || l.name == it->first;
      if (kept) {
        ++it;
        continue;
      }
      std::string name = it->first;
      for (auto& w : workers) {
        Worker* raw = w.get();
        raw->post([raw, name] { raw->removeListener(name); });
      }
      it = bound.erase(it);
    }
  }

  // The one config-swap path: SIGHUP reloads and pilot snapshots both come through here.
  // Nothing changes unless the whole snapshot builds and its new listeners bind.
  core::Status applySnapshot(core::model::Snapshot snapshot, const std::string& source) {
    auto built = RuntimeConfig::build(
        std::make_shared<const core::model::Snapshot>(std::move(snapshot)), config.get(),
        core::Clock::real(), &jwks);
    if (!built.ok()) return built.status();
    std::shared_ptr<const RuntimeConfig> next = std::move(*built);
    if (core::Status s = addListeners(next->snapshot(), true); !s.ok()) return s;
    removeListeners(next->snapshot());
    config = next;
    for (auto& w : workers) {
      Worker* raw = w.get();
      raw->post([raw, next] { raw->setConfig(next); });
    }
    bool first = !configLoaded;
    configLoaded = true;
    stats.configReloadOk.inc();
    LOG_INFO("proxy", "config version \"", config->snapshot().version, "\" loaded from ", source);
    // The first snapshot from pilot comes after startup's release: building it was startup too.
    if (first && ready) core::releaseStartupPages();
    return {};
  }

  void reload() {
    if (options.configPath.empty()) {
      LOG_INFO("proxy", "SIGHUP: no --config file to reload");
      return;
    }
    auto snapshot = loadSnapshotFile(options.configPath);
    core::Status s = snapshot.ok() ? applySnapshot(std::move(*snapshot), options.configPath)
                                   : snapshot.status();
    if (!s.ok()) {
      stats.configReloadError.inc();
      LOG_ERROR("proxy", "reload failed, keeping version \"", config->snapshot().version,
                "\": ", s.message());
    }
  }

  // Ready: serving, with a certificate when one was asked for, and with a config.
  bool isReady() const {
    return ready && configLoaded && (!identity || identity->hasCertificate());
  }

  void beginDrain() {
    if (draining) return;
    draining = true;
    ready = false;
    LOG_INFO("proxy", "draining: no new connections, ", options.drainSeconds,
             " s for requests in flight");
    for (auto& w : workers) {
      Worker* raw = w.get();
      raw->post([raw] { raw->drain(); });
    }
    drainDeadline = std::chrono::steady_clock::now() + std::chrono::seconds(options.drainSeconds);
    drainTimer = std::make_unique<core::Timer>(loop);
    drainTimer->startRepeating(std::chrono::milliseconds(20), [this] {
      uint64_t active = 0;
      for (auto& w : workers) active += w->activeConnections();
      if (active == 0 || std::chrono::steady_clock::now() >= drainDeadline) {
        if (active) LOG_WARN("proxy", "grace period over with ", active, " connections open");
        shutdown();
      }
    });
  }

  void shutdown() {
    for (auto& w : workers) {
      Worker* raw = w.get();
      raw->post([raw] { raw->stop(); });
    }
    drainTimer.reset();
    xds.reset();
    zipkin.reset();
    identity.reset();
    sigterm.reset();
    sigint.reset();
    sighup.reset();
    if (admin) admin->close();
    if (readiness) readiness->close();
    if (prometheus) prometheus->close();
  }

  AdminResponse handleAdmin(const AdminRequest& r);
  std::string clustersText() const;
  std::string statsText() const;
};

std::string ProxyServer::State::clustersText() const {
  std::string out;
  for (const auto& [name, info] : config->clusters()) {
    const auto& breaker = info->breaker();
    using R = CircuitBreaker::Resource;
    out += name + "::default_priority::max_connections::" +
           std::to_string(breaker.limit(R::connections)) + "\n";
    out += name + "::default_priority::max_pending_requests::" +
           std::to_string(breaker.limit(R::pendingRequests)) + "\n";
    out += name + "::default_priority::max_retries::" + std::to_string(breaker.limit(R::retries)) + "\n";
    for (const auto& host : info->hosts()) {
      std::string prefix = name + "::" + host->address.toString() + "::";
      auto load = [](const std::atomic<uint64_t>& v) { return std::to_string(v.load()); };
      out += prefix + "cx_active::" + load(host->activeConnections) + "\n";
      out += prefix + "cx_connect_fail::" + load(host->connectFailures) + "\n";
      out += prefix + "rq_active::" + load(host->activeRequests) + "\n";
      out += prefix + "rq_total::" + load(host->requestsTotal) + "\n";
      out += prefix + "rq_error::" + load(host->requestsFailed) + "\n";
      out += prefix + "health_flags::" +
             (info->isEjected(*host) ? "/failed_outlier_check" : "healthy") + "\n";
    }
  }
  return out;
}

std::string ProxyServer::State::statsText() const {
  std::string out = registry.render();
  std::optional<core::Clock::TimePoint> notAfter;
  if (identity && identity->manager().current()) notAfter = identity->manager().current()->notAfter;
  telemetry::appendHealthStats(out, *config, notAfter, core::Clock::real());
  out += "# TYPE mesh_proxy_cluster_requests_total counter\n";
  for (const auto& [name, info] : config->clusters()) {
    out += "mesh_proxy_cluster_requests_total{cluster=\"" + name + "\"} " +
           std::to_string(info->requestsTotal.load()) + "\n";
  }
  out += "# TYPE mesh_proxy_cluster_retries_total counter\n";
  for (const auto& [name, info] : config->clusters()) {
    out += "mesh_proxy_cluster_retries_total{cluster=\"" + name + "\"} " +
           std::to_string(info->retries.load()) + "\n";
  }
  out += "# TYPE mesh_proxy_cluster_overflow_total counter\n";
  for (const auto& [name, info] : config->clusters()) {
    const auto& b = info->breaker();
    using R = CircuitBreaker::Resource;
    out += "mesh_proxy_cluster_overflow_total{cluster=\"" + name + "\"} " +
           std::to_string(b.overflows(R::connections) + b.overflows(R::pendingRequests) +
                          b.overflows(R::retries)) +
           "\n";
  }
  return out;
}

AdminResponse ProxyServer::State::handleAdmin(const AdminRequest& r) {
  if (r.path == "/config_dump") {
    return {200, core::model::toRedactedJson(config->snapshot()).dump(2) + "\n",
            "application/json"};
  }
  if (r.path == "/clusters") return {200, clustersText()};
  if (r.path == "/certs") {
    const core::IssuedIdentity* issued =
        identity && identity->manager().current() ? &*identity->manager().current() : nullptr;
    return {200, certsJson(issued).dump(2) + "\n", "application/json"};
  }
  if (r.path == "/stats" || r.path == "/stats/prometheus") {
    return {200, statsText(), std::string(core::metrics::Registry::kContentType)};
  }
  if (r.path == "/memory") {
    core::HeapUsage heap = core::heapUsage();
    nlohmann::json out = {{"allocated", std::to_string(heap.allocated)},
                          {"heap_size", std::to_string(heap.heapSize)},
                          {"heap_free", std::to_string(heap.free)},
                          {"heap_mapped", std::to_string(heap.mapped)},
                          {"arena_size", std::to_string(heap.arenas)}};
    return {200, out.dump(2) + "\n", "application/json"};
  }
  if (r.path == "/ready") return ready ? AdminResponse{200, "LIVE\n"} : AdminResponse{503, "DRAINING\n"};
  if (r.path == "/logging") {
    auto level = r.query.find("level");
    if (level == r.query.end()) {
      return {200, "active level: " + std::string(core::logLevelName(core::Log::level())) + "\n"};
    }
    if (r.method != "POST") return {405, "use POST to change the log level\n"};
    core::LogLevel parsed;
    if (!core::parseLogLevel(level->second, parsed)) {
      return {400, "unknown level \"" + level->second + "\" (trace, debug, info, warn, error, off)\n"};
    }
    core::Log::setLevel(parsed);
    return {200, "active level: " + level->second + "\n"};
  }
  if (r.path == "/quitquitquit") {
    if (r.method != "POST") return {405, "use POST /quitquitquit\n"};
    // Answer first; the drain begins on the next loop turn.
    auto timer = std::make_shared<core::Timer>(loop);
    timer->start(std::chrono::milliseconds(1), [this, timer]() mutable {
      beginDrain();
      core::Timer* keep = timer.get();
      (void)keep;
      timer.reset();
    });
    return {200, "OK\n"};
  }
  if (r.path == "/" || r.path.empty()) {
    return {200, "/config_dump /clusters /certs /memory /stats /stats/prometheus /ready "
                 "/logging?level= /quitquitquit\n"};
  }
  return {404, "unknown admin path " + r.path + "\n"};
}

ProxyServer::ProxyServer(ServerOptions options)
    : state_(std::make_unique<State>(std::move(options))) {}

ProxyServer::~ProxyServer() {
  if (state_) {
    for (int fd : state_->reserved) ::close(fd);
  }
}

int ProxyServer::run() {
  State& s = *state_;
  if (s.options.configPath.empty() && s.options.xds.pilotAddress.empty()) {
    LOG_ERROR("proxy", "either --config FILE or --pilot-address is needed");
    return 1;
  }
  core::model::Snapshot initial;  // empty until pilot sends one
  if (!s.options.configPath.empty()) {
    auto snapshot = loadSnapshotFile(s.options.configPath);
    if (!snapshot.ok()) {
      LOG_ERROR("proxy", snapshot.status().message());
      return 1;
    }
    initial = std::move(*snapshot);
    s.configLoaded = true;
  }
  auto config = RuntimeConfig::build(std::make_shared<const core::model::Snapshot>(std::move(initial)),
                                     nullptr, core::Clock::real(), &s.jwks);
  if (!config.ok()) {
    LOG_ERROR("proxy", s.options.configPath, ": ", config.status().message());
    return 1;
  }
  s.config = *config;
  if (s.configLoaded) s.stats.configReloadOk.inc();
  // Identity before the workers: they share the TLS contexts it will fill in.
  if (!s.options.identity.caAddress.empty()) {
    auto security = std::make_shared<TransportSecurity>();
    s.options.proxy.security = security;
    auto identity = WorkloadIdentity::create(s.loop, core::Clock::real(), s.options.identity, security);
    if (!identity.ok()) {
      LOG_ERROR("proxy", identity.status().message());
      return 1;
    }
    s.identity = std::move(*identity);
    // What pilot hears defaults to what the certificate says.
    auto& hello = s.options.xds;
    if (hello.ns.empty()) hello.ns = s.identity->id().ns();
    if (hello.serviceAccount.empty()) hello.serviceAccount = s.identity->id().serviceAccount();
    if (hello.node.empty())
      hello.node = hello.serviceAccount + "-" + std::to_string(::getpid()) + "." + hello.ns;
  }
  if (!s.options.xds.pilotAddress.empty()) {
    auto xds = XdsClient::create(s.loop, s.options.xds, s.options.proxy.security,
                                 [&s](core::model::Snapshot snapshot) {
                                   localize(snapshot, s.options.localPorts);
                                   return s.applySnapshot(std::move(snapshot), "pilot");
                                 });
    if (!xds.ok()) {
      LOG_ERROR("proxy", xds.status().message());
      return 1;
    }
    s.xds = std::move(*xds);
  }
  if (!s.options.zipkinAddress.empty()) {
    auto collector = telemetry::resolveCollector(s.options.zipkinAddress);
    if (!collector.ok() && collector.status().code() == core::Code::invalid) {
      LOG_ERROR("proxy", "--zipkin-address ", s.options.zipkinAddress, ": ",
                collector.status().message());
      return 1;
    }
    if (collector.ok()) {
      // Spans wait here for the exporter; 10000 of them is a few MB at most.
      s.options.proxy.tracing.spans = std::make_shared<telemetry::SpanQueue>(s.registry, 10000);
      s.zipkin = std::make_unique<telemetry::ZipkinExporter>(s.loop, *collector,
                                                             s.options.proxy.tracing.spans);
      s.zipkin->start();
    } else {
      // A collector that cannot be found must not keep the sidecar from serving.
      LOG_WARN("proxy", "--zipkin-address ", s.options.zipkinAddress, ": ",
               collector.status().message(), "; spans are not exported");
    }
  }
  // One worker serves on this thread's loop (worker.h); more get threads of their own.
  unsigned concurrency = std::max(1u, s.options.concurrency);
  for (unsigned i = 0; i < concurrency; ++i) {
    s.workers.push_back(std::make_unique<Worker>(i, s.options.proxy, s.stats, s.config,
                                                 concurrency == 1 ? &s.loop : nullptr));
  }
  if (core::Status st = s.addListeners(s.config->snapshot(), false); !st.ok()) {
    LOG_ERROR("proxy", st.message());
    for (auto& w : s.workers) w->stop();
    for (auto& w : s.workers) {
      w->start();
      w->join();
    }
    return 1;
  }
  auto startAdmin = [&](std::unique_ptr<AdminServer>& server, const std::string& text,
                         AdminServer::Handler handler) -> core::Status {
    if (text.empty()) return {};
    auto address = SocketAddress::parseHostPort(text);
    if (!address.ok()) return address.status();
    server = std::make_unique<AdminServer>(s.loop, std::move(handler));
    return server->listen(*address);
  };
  core::Status st = startAdmin(s.admin, s.options.adminAddress,
                               [&s](const AdminRequest& r) { return s.handleAdmin(r); });
  if (st.ok()) {
    st = startAdmin(s.readiness, s.options.readinessAddress, [&s](const AdminRequest& r) {
      if (r.path == "/healthz/ready") {
        return s.isReady() ? AdminResponse{200, "ready\n"} : AdminResponse{503, "not ready\n"};
      }
      return AdminResponse{404, "unknown path\n"};
    });
  }
  if (st.ok()) {
    st = startAdmin(s.prometheus, s.options.statsAddress, [&s](const AdminRequest& r) {
      if (r.path == "/stats/prometheus" || r.path == "/metrics") {
        return AdminResponse{200, s.statsText(), std::string(core::metrics::Registry::kContentType)};
      }
      return AdminResponse{404, "unknown path (/stats/prometheus)\n"};
    });
    if (!st.ok() && !s.options.statsAddressChosen) {
      LOG_WARN("proxy", "stats port ", s.options.statsAddress, ": ", st.message(),
               "; metrics stay on the admin port's /stats/prometheus");
      s.prometheus.reset();
      st = {};
    }
  }
  if (!st.ok()) {
    LOG_ERROR("proxy", "admin: ", st.message());
    s.shutdown();
    for (auto& w : s.workers) {
      w->start();
      w->join();
    }
    s.loop.run();
    return 1;
  }
  // Handlers first: a tool that reads the line below may signal at once.
  s.sigterm = std::make_unique<core::Signal>(s.loop);
  s.sigint = std::make_unique<core::Signal>(s.loop);
  s.sighup = std::make_unique<core::Signal>(s.loop);
  s.sigterm->start(SIGTERM, [&s](int) { s.beginDrain(); });
  s.sigint->start(SIGINT, [&s](int) { s.beginDrain(); });
  s.sighup->start(SIGHUP, [&s](int) { s.reload(); });
  std::string line = "listening";
  if (s.admin) line += " admin=" + s.admin->address().toString();
  if (s.readiness) line += " readiness=" + s.readiness->address().toString();
  if (s.prometheus) line += " stats=" + s.prometheus->address().toString();
  for (const auto& [name, address] : s.bound) line += " " + name + "=" + address.toString();
  std::fprintf(s.options.announce, "%s\n", line.c_str());
  std::fflush(s.options.announce);

  for (auto& w : s.workers) w->start();
  s.ready = true;
  s.heapTrimmer.setRelease(releaseSpareBuffers);
  s.heapTrimmer.every(std::chrono::seconds(2));
  // Flag and config parsing touched code the sidecar will not run again: let it go.
  size_t released = core::releaseStartupPages();
  LOG_DEBUG("proxy", "released ", released / 1024, " kB of startup pages");
  if (s.identity) {
    // Pilot is asked only once there is a certificate to present to it.
    s.identity->onFirstCertificate([&s] {
      if (s.xds) s.xds->start();
    });
    s.identity->start();
  }
  if (s.configLoaded) {
    LOG_INFO("proxy", "serving config version \"", s.config->snapshot().version, "\", ",
             s.workers.size(), " workers");
  } else {
    LOG_INFO("proxy", s.workers.size(), " workers up, waiting for the first snapshot from pilot");
  }
  s.loop.run();
  for (auto& w : s.workers) w->join();
  s.workers.clear();
  LOG_INFO("proxy", "stopped");
  return 0;
}

}  // namespace mesh::proxy
