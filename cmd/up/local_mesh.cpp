#include "cmd/up/local_mesh.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "ca/root_store.h"
#include "ca/token.h"
#include "cmd/echo/fetch.h"
#include "cmd/up/config_mirror.h"
#include "cmd/up/embedded.h"
#include "cmd/up/free_ports.h"
#include "cmd/up/ingress.h"
#include "cmd/up/launch.h"
#include "cmd/up/pod_network.h"
#include "cmd/up/service_addresses.h"
#include "cmd/up/supervised.h"
#include "cmd/up/table.h"
#include "cmd/up/workload.h"
#include "core/base/clock.h"
#include "core/loop/heap_trimmer.h"
#include "core/config/loader.h"
#include "core/loop/fs_watch.h"
#include "core/loop/resolver.h"
#include "core/loop/signals.h"
#include "core/loop/tcp.h"
#include "core/loop/timer.h"
#include "core/tls/spiffe.h"

namespace mesh::cmd::up {

namespace fs = std::filesystem;
using core::Result;
using core::Status;

namespace {

constexpr auto kPilotStartLimit = std::chrono::seconds(30);
constexpr auto kProbeEvery = std::chrono::milliseconds(100);
constexpr auto kDebounce = std::chrono::milliseconds(200);
constexpr auto kTokenLifetime = std::chrono::hours(1);
constexpr auto kWaitNote = std::chrono::seconds(15);
// Longer than pilot's debounce (100 ms), so two equal polls mean no push is on its way.
constexpr auto kConvergePoll = std::chrono::milliseconds(300);
constexpr auto kConvergeAtMost = std::chrono::seconds(10);

// One pod: its sidecar and its app (the ingress gateway is a pod without an app).
struct PodRun {
  Pod pod;
  std::string identity;
  std::unique_ptr<Supervised> sidecar;
  std::unique_ptr<Supervised> app;
  bool sidecarReady = false;  // its /healthz/ready said 200
  bool appStarted = false;    // the app starts once its sidecar is ready
  bool ready = false;         // sidecar ready and the app answering HTTP on its port
  PodNetns netns;             // --netns: the pod's namespace; empty name otherwise
};

struct WorkloadRun {
  Workload workload;
  std::vector<std::unique_ptr<PodRun>> pods;
};

std::string url(std::uint32_t port, const std::string& path = "") {
  return "http://127.0.0.1:" + std::to_string(port) + path;
}

// A pod's port as the host reaches it: its own address with --netns, else loopback.
std::string podUrl(const Pod& pod, std::uint32_t port, const std::string& path = "") {
  if (pod.address.empty()) return url(port, path);
  return "http://" + pod.address + ":" + std::to_string(port) + path;
}

// Istio's ports, which every pod has to itself in its own namespace.
PodPorts istioPorts(const Workload& w) {
  PodPorts p;
  p.app = w.ports.empty() ? 0 : w.ports.front();
  p.sidecar = 15006;
  p.outbound = 15001;
  p.admin = 15000;
  p.readiness = 15021;
  return p;
}

// The host's loopback, seen from a pod, is the bridge's address: a collector given as
// 127.0.0.1:PORT or localhost:PORT is reached there (it must listen on that address too).
std::vector<std::string> flagsForPods(std::vector<std::string> flags, const std::string& host) {
  for (std::size_t i = 0; i + 1 < flags.size(); ++i) {
    if (flags[i] != "--zipkin-address") continue;
    std::string& value = flags[i + 1];
    for (const char* local : {"127.0.0.1:", "localhost:"}) {
      if (value.rfind(local, 0) == 0) value = host + ":" + value.substr(std::strlen(local));
    }
  }
  return flags;
}

// Whether 127.0.0.1:port can be bound now (SO_REUSEADDR, as the proxy's listeners use).
bool portIsFree(std::uint32_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return free;
}

bool writePrivateFile(const fs::path& path, const std::string& text) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out || !(out << text << "\n") || !out.flush()) return false;
  }
  ::chmod(tmp.c_str(), 0600);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  return !ec;
}

}  // namespace

struct LocalMesh::State {
  core::Loop& loop;
  UpOptions options;
  fs::path stateDir, dir, mirror, logs, tokenDir, caDir;
  bool ownsStateDir = false;
  FreePorts ports;
  core::Resolver resolver;
  ControlPlane control;
  ControlPlane podControl;              // as sidecars in their namespaces reach it (--netns)
  std::unique_ptr<PodNetwork> network;  // --netns
  ServiceAddresses serviceAddresses;    // --netns: every address handed out, kept for the run
  ServiceAddresses services;            // --netns: the Services of the last reload
  std::uint32_t caPort = 0, pilotPort = 0, monitorPort = 0;
  std::unique_ptr<Supervised> pilot;
  std::unique_ptr<ca::TokenSigner> tokens;
  std::map<std::string, std::unique_ptr<WorkloadRun>> running;
  std::vector<std::unique_ptr<WorkloadRun>> retiring;  // being stopped
  Workload ingressWorkload;
  std::unique_ptr<PodRun> ingress;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> ingressPorts;  // Gateway port -> local
  std::map<PodRun*, std::unique_ptr<echo::Fetch>> probes;
  std::map<PodRun*, std::unique_ptr<core::TcpStream>> appProbes;
  std::map<fs::path, std::unique_ptr<core::FsWatch>> watches;
  core::Timer pilotWait, probeTimer, debounce, stateRefresh, convergeTimer;
  std::unique_ptr<echo::Fetch> syncProbe;
  std::string lastSync;  // the previous poll's proxies and versions
  std::chrono::steady_clock::time_point convergeSince;
  core::Signal sigint, sigterm;
  std::chrono::steady_clock::time_point startedAt = std::chrono::steady_clock::now();
  bool up = false;
  bool waitNoted = false;
  std::string lastProblems;
  bool stopping = false;
  int exitCode = 0;

  State(core::Loop& l, UpOptions o)
      : loop(l),
        options(std::move(o)),
        resolver(l),
        pilotWait(l),
        probeTimer(l),
        debounce(l),
        stateRefresh(l),
        convergeTimer(l),
        sigint(l),
        sigterm(l) {
    // The ingress gateway as Istio installs it; Gateways select it by these labels.
    ingressWorkload.name = "istio-ingressgateway";
    ingressWorkload.ns = "istio-system";
    ingressWorkload.serviceAccount = "istio-ingressgateway-service-account";
    ingressWorkload.labels = {{"istio", "ingressgateway"}, {"app", "istio-ingressgateway"}};
  }

  void say(const std::string& line) {
    std::fprintf(options.out, "%s\n", line.c_str());
    std::fflush(options.out);
  }
  void report(const std::string& name, const std::string& what) {
    std::fprintf(stderr, "mesh up: %s %s\n", name.c_str(), what.c_str());
    // A restart changes process ids: mesh-up.json follows once the new process is spawned.
    if (up && !stopping)
      stateRefresh.start(std::chrono::milliseconds(100), [this] { writeStateFile(); });
  }
  int fail(const std::string& why) {
    std::fprintf(stderr, "mesh up: %s\n", why.c_str());
    return 1;
  }

  // --- set-up -------------------------------------------------------------------------

  Status prepareDirectories() {
    std::error_code ec;
    if (options.stateDir.empty()) {
      const char* tmp = std::getenv("TMPDIR");
      std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/mesh-up-XXXXXX";
      std::vector<char> buf(pattern.begin(), pattern.end());
      buf.push_back('\0');
      if (!::mkdtemp(buf.data()))
        return core::error(core::Code::internal, "cannot create a state directory");
      stateDir = buf.data();
      ownsStateDir = true;
    } else {
      stateDir = fs::absolute(options.stateDir, ec);
      fs::create_directories(stateDir, ec);
      if (ec) return core::error(core::Code::invalid, stateDir.string() + ": " + ec.message());
      // The config copy and the tokens belong to this run; the CA's keys are kept.
      fs::remove_all(stateDir / "config", ec);
      fs::remove_all(stateDir / "tokens", ec);
    }
    mirror = stateDir / "config";
    logs = stateDir / "logs";
    tokenDir = stateDir / "tokens";
    caDir = stateDir / "ca";
    for (const auto& d : {mirror, logs, tokenDir}) fs::create_directories(d, ec);
    ::chmod(tokenDir.c_str(), 0700);
    if (options.dir.empty()) {
      // The built-in demo, written out so that it can be looked at and edited while it runs.
      dir = stateDir / "bookinfo";
      for (const auto& file : embeddedBookinfo()) {
        fs::path path = dir / std::string(file.name);
        fs::create_directories(path.parent_path(), ec);
        std::ofstream out(path, std::ios::trunc);
        out << file.text;
        if (!out) return core::error(core::Code::internal, "cannot write " + path.string());
      }
    } else {
      dir = fs::absolute(options.dir, ec);
      if (!fs::is_directory(dir, ec))
        return core::error(core::Code::invalid, options.dir + ": not a directory");
    }
    return {};
  }

  Status startPilot() {
    for (auto* port : {&caPort, &pilotPort, &monitorPort}) {
      auto p = ports.take();
      if (!p.ok()) return p.status();
      *port = *p;
    }
    control.self = options.self;
    control.proxyFlags = options.proxyFlags;
    // With --netns pilot and the CA listen on the bridge, where the pods reach them.
    std::string host = network ? network->hostAddress() : "127.0.0.1";
    control.caAddress = host + ":" + std::to_string(caPort);
    control.caRoot = (caDir / "trust-bundle.pem").string();
    control.pilotAddress = host + ":" + std::to_string(pilotPort);
    podControl = control;
    if (network) podControl.proxyFlags = flagsForPods(control.proxyFlags, host);
    fs::path out = logs / "pilot.out";
    pilot = std::make_unique<Supervised>(
        loop, "pilot",
        [this, out]() -> Result<core::ProcessOptions> {
          core::ProcessOptions o;
          o.file = options.self;
          o.args = {"pilot",
                    "--config-dir",
                    mirror.string(),
                    "--ca-data-dir",
                    caDir.string(),
                    "--ca-listen",
                    control.caAddress,
                    "--listen",
                    control.pilotAddress,
                    "--monitor",
                    "127.0.0.1:" + std::to_string(monitorPort),
                    "--trust-domain",
                    options.trustDomain,
                    "--debounce-after",
                    "50ms",
                    "--endpoint-grace",
                    "2s"};
          o.env = meshEnvironment(options.environment);
          o.out = core::Stdio::file(out.string());
          o.err = core::Stdio::file((logs / "pilot.log").string(), true);
          return o;
        },
        [this](const std::string& n, const std::string& w) { report(n, w); });
    if (Status s = pilot->start(); !s.ok()) return s;
    // Pilot says "listening ..." once its CA has issued its own certificate.
    auto deadline = std::chrono::steady_clock::now() + kPilotStartLimit;
    pilotWait.startRepeating(std::chrono::milliseconds(50), [this, out, deadline] {
      std::ifstream in(out);
      std::string line;
      while (std::getline(in, line)) {
        if (line.rfind("listening ", 0) == 0) {
          pilotWait.stop();
          return onPilotUp();
        }
      }
      if (std::chrono::steady_clock::now() > deadline) {
        pilotWait.stop();
        exitCode = fail("pilot did not start in 30 s; see " + (logs / "pilot.log").string());
        stopAll();
      }
    });
    return {};
  }

  void onPilotUp() {
    auto key = ca::loadOrCreateTokenKey(caDir.string());
    if (!key.ok()) {
      exitCode = fail("the CA's token key: " + key.status().message());
      return stopAll();
    }
    tokens = std::make_unique<ca::TokenSigner>(*key);
    say("pilot " + control.pilotAddress + ", ca " + control.caAddress + ", monitoring " +
        url(monitorPort, "/debug/syncz"));
    reload();
    if (options.ingress) startIngress();
    probeTimer.startRepeating(kProbeEvery, [this] { probe(); });
  }

  // --- pods -----------------------------------------------------------------------------

  Result<std::string> tokenFileFor(const Workload& w, const std::string& podName) {
    auto id = core::SpiffeId::make(options.trustDomain, w.ns, w.serviceAccount);
    if (!id.ok()) return id.status();
    auto token = tokens->create(*id, kTokenLifetime, core::Clock::real());
    if (!token.ok()) return token.status();
    fs::path path = tokenDir / (podName + "." + w.ns + ".token");
    if (!writePrivateFile(path, *token))
      return core::error(core::Code::internal, "cannot write " + path.string());
    return path.string();
  }

  // --netns: a sidecar runs as kProxyUid, so its token and the CA's root are copied into a
  // directory of its own (STATE/pods/<pod>, 0700), which it reads.
  Result<ControlPlane> sidecarFiles(const PodRun& pr, std::string& tokenFile) {
    auto token = tokenFileFor(*pr.pod.workload, pr.pod.name);
    if (!token.ok()) return token.status();
    tokenFile = *token;
    if (!network) return control;
    fs::path home = stateDir / "pods" / (pr.pod.name + "." + pr.pod.workload->ns);
    std::error_code ec;
    fs::create_directories(home, ec);
    ControlPlane cp = podControl;
    cp.caRoot = (home / "root.pem").string();
    tokenFile = (home / "token").string();
    fs::copy_file(*token, tokenFile, fs::copy_options::overwrite_existing, ec);
    if (!ec) fs::copy_file(control.caRoot, cp.caRoot, fs::copy_options::overwrite_existing, ec);
    if (ec) return core::error(core::Code::internal, home.string() + ": " + ec.message());
    for (const fs::path& p : {home, fs::path(tokenFile), fs::path(cp.caRoot)}) {
      if (::chown(p.c_str(), kProxyUid, kProxyUid) != 0)
        return core::error(core::Code::internal, "cannot chown " + p.string());
    }
    ::chmod(home.c_str(), 0700);
    return cp;
  }

  // --netns: the pod's namespace, address and capture rules, before its processes start.
  Status makePodNetwork(PodRun& pr) {
    const Workload& w = *pr.pod.workload;
    auto netns = network->addPod(pr.pod.name + "." + w.ns, podResolvConf(w.ns));
    if (!netns.ok()) return netns.status();
    pr.netns = *netns;
    pr.pod.address = netns->address;
    network->updateHosts(pr.netns, podHostsFile(w.ns, pr.pod.name, pr.pod.address, services));
    // Istio's init container: everything but the sidecar's own traffic goes to the sidecar;
    // the admin port stays reachable from the host.
    Status s = network->runInPod(
        pr.netns, {options.self, "proxy", "iptables", "--proxy-uid=" + std::to_string(kProxyUid),
                   "--proxy-gid=" + std::to_string(kProxyUid),
                   "--exclude-inbound-ports=" + std::to_string(pr.pod.ports.admin)});
    if (!s.ok()) {
      network->removePod(pr.netns);
      pr.netns = {};
    }
    return s;
  }

  // What a pod leaves once its processes are gone: ports, or (--netns) its namespace.
  void releasePod(PodRun& pr) {
    if (!network) return releasePorts(pr.pod.ports);
    if (!pr.netns.name.empty()) network->removePod(pr.netns);
    pr.netns = {};
  }

  // --netns: the address of a Service, the same for the whole run.
  std::string serviceAddressFor(const std::string& ns, const std::string& name,
                                ServiceAddresses& seen) {
    std::string key = ns + "/" + name;
    auto it = serviceAddresses.find(key);
    if (it == serviceAddresses.end()) {
      std::string address = network->serviceAddress();
      if (address.empty()) return {};
      it = serviceAddresses.emplace(key, address).first;
    }
    seen[key] = it->second;
    return it->second;
  }

  core::Result<core::ProcessOptions> logged(core::ProcessOptions o, const std::string& name) {
    std::string log = (logs / (name + ".log")).string();
    o.out = core::Stdio::file(log, true);
    o.err = core::Stdio::file(log, true);
    return o;
  }

  Status takePorts(PodPorts& p, bool withApp) {
    std::vector<std::uint32_t*> wanted = {&p.admin, &p.readiness};
    if (withApp) {
      wanted.push_back(&p.app);
      wanted.push_back(&p.sidecar);
      wanted.push_back(&p.outbound);
    }
    for (auto* port : wanted) {
      auto taken = ports.take();
      if (!taken.ok()) return taken.status();
      *port = *taken;
    }
    return {};
  }

  void releasePorts(const PodPorts& p) {
    for (auto port : {p.app, p.sidecar, p.outbound, p.admin, p.readiness}) {
      if (port) ports.release(port);
    }
  }

  std::unique_ptr<PodRun> startPod(const Workload& w, int replica) {
    auto run = std::make_unique<PodRun>();
    PodRun* pr = run.get();
    pr->pod.name = w.name + "-" + std::to_string(replica);
    pr->pod.workload = &w;
    pr->identity = "spiffe://" + options.trustDomain + "/ns/" + w.ns + "/sa/" + w.serviceAccount;
    if (network) {
      pr->pod.ports = istioPorts(w);
      if (Status s = makePodNetwork(*pr); !s.ok()) {
        report(pr->pod.name, "cannot start: " + s.message());
        return nullptr;
      }
    } else if (Status s = takePorts(pr->pod.ports, true); !s.ok()) {
      report(pr->pod.name, "cannot start: " + s.message());
      return nullptr;
    }
    auto reportFn = [this](const std::string& n, const std::string& what) { report(n, what); };
    pr->sidecar = std::make_unique<Supervised>(
        loop, pr->pod.name + " (sidecar)",
        [this, pr]() -> Result<core::ProcessOptions> {
          std::string token;
          auto cp = sidecarFiles(*pr, token);
          if (!cp.ok()) return cp.status();
          std::vector<std::string> argv = {options.self};
          for (auto& a : sidecarArgs(pr->pod, *cp, token)) argv.push_back(std::move(a));
          if (network) argv = network->inPod(pr->netns, true, argv);
          core::ProcessOptions o;
          o.file = argv.front();
          o.args.assign(argv.begin() + 1, argv.end());
          o.env = meshEnvironment(options.environment);
          return logged(std::move(o), pr->pod.name + ".sidecar");
        },
        reportFn);
    pr->app = std::make_unique<Supervised>(
        loop, pr->pod.name + " (app)",
        [this, pr]() -> Result<core::ProcessOptions> {
          auto env = podEnv(pr->pod);
          auto argv = appArgv(pr->pod, options.self, env);
          bool mesh = argv.front() == options.self;  // `mesh echo`, for one
          if (network) argv = network->inPod(pr->netns, false, argv);
          core::ProcessOptions o;
          o.file = argv.front();
          o.args.assign(argv.begin() + 1, argv.end());
          o.env = mesh ? meshEnvironment(options.environment, env)
                       : childEnvironment(options.environment, env);
          o.cwd = dir.string();
          return logged(std::move(o), pr->pod.name + ".app");
        },
        reportFn);
    // The app waits for its sidecar (Istio's holdApplicationUntilProxyStarts): its first
    // calls then go out through a proxy that has its certificate and its routes.
    if (Status s = pr->sidecar->start(); !s.ok()) {
      report(pr->sidecar->name(), "cannot start: " + s.message());
    }
    return run;
  }

  void startWorkload(const Workload& w) {
    auto run = std::make_unique<WorkloadRun>();
    run->workload = w;
    for (int i = 0; i < w.replicas; ++i) {
      if (auto pod = startPod(run->workload, i)) run->pods.push_back(std::move(pod));
    }
    running[w.key()] = std::move(run);
  }

  // A new replica count: pods are added at the end or stopped from the end, the others stay.
  void scale(WorkloadRun& run, const Workload& w) {
    if (up) say("workload " + w.key() + " scaled to " + std::to_string(w.replicas));
    run.workload.replicas = w.replicas;
    run.workload.source = w.source;
    auto wanted = static_cast<std::size_t>(w.replicas);
    for (std::size_t i = run.pods.size(); i < wanted; ++i) {
      if (auto pod = startPod(run.workload, static_cast<int>(i)))
        run.pods.push_back(std::move(pod));
    }
    if (run.pods.size() <= wanted) return;
    auto gone = std::make_unique<WorkloadRun>();
    gone->workload = run.workload;
    for (std::size_t i = wanted; i < run.pods.size(); ++i) {
      run.pods[i]->pod.workload = &gone->workload;
      gone->pods.push_back(std::move(run.pods[i]));
    }
    run.pods.resize(wanted);
    retire(std::move(gone));
  }

  // Stops a workload's pods; the WorkloadRun goes once the last process is gone.
  void retire(std::unique_ptr<WorkloadRun> run) {
    WorkloadRun* raw = run.get();
    retiring.push_back(std::move(run));
    auto left = std::make_shared<int>(0);
    auto finished = [this, raw, left] {
      if (--*left > 0) return;
      for (auto it = retiring.begin(); it != retiring.end(); ++it) {
        if (it->get() != raw) continue;
        for (auto& pod : raw->pods) {
          probes.erase(pod.get());
          appProbes.erase(pod.get());
          releasePod(*pod);
        }
        core::deferredDelete(loop, std::move(*it));
        retiring.erase(it);
        return;
      }
    };
    *left = static_cast<int>(raw->pods.size()) * 2;
    if (*left == 0) {
      ++*left;
      return finished();
    }
    for (auto& pod : raw->pods) {
      probes.erase(pod.get());
      appProbes.erase(pod.get());
      pod->app->stop(options.grace, finished);
      pod->sidecar->stop(options.grace, finished);
    }
  }

  void startIngress() {
    ingress = std::make_unique<PodRun>();
    PodRun* pr = ingress.get();
    pr->pod.name = "istio-ingressgateway";
    pr->pod.workload = &ingressWorkload;
    pr->identity =
        "spiffe://" + options.trustDomain + "/ns/istio-system/sa/" + ingressWorkload.serviceAccount;
    if (Status s = takePorts(pr->pod.ports, false); !s.ok()) {
      report("ingress gateway", "cannot start: " + s.message());
      ingress.reset();
      return;
    }
    pr->sidecar = std::make_unique<Supervised>(
        loop, "istio-ingressgateway",
        [this, pr]() -> Result<core::ProcessOptions> {
          auto token = tokenFileFor(ingressWorkload, pr->pod.name);
          if (!token.ok()) return token.status();
          core::ProcessOptions o;
          o.file = options.self;
          o.args = gatewayArgs(pr->pod, control, *token, ingressPorts);
          o.env = meshEnvironment(options.environment);
          return logged(std::move(o), "istio-ingressgateway");
        },
        [this](const std::string& n, const std::string& w) { report(n, w); });
    if (Status s = pr->sidecar->start(); !s.ok())
      report("istio-ingressgateway", "cannot start: " + s.message());
  }

  // The ports of the Gateways that select the ingress gateway: the first is served on
  // --ingress-port, the others on free ports. Decided once, when the ingress starts.
  void planIngressPorts(const std::vector<core::config::Resource>& resources) {
    if (!ingressPorts.empty()) return;
    for (std::uint32_t number : gatewayPorts(resources, ingressWorkload.labels)) {
      std::uint32_t local = 0;
      if (ingressPorts.empty() && options.ingressPort != 0) {
        local = options.ingressPort;
        if (!portIsFree(local)) {
          auto p = ports.take();
          local = p.ok() ? *p : 0;
          report("ingress", "127.0.0.1:" + std::to_string(options.ingressPort) +
                                " is in use; serving Gateway port " + std::to_string(number) +
                                " on " + std::to_string(local) + " instead (see --ingress-port)");
        }
      } else if (auto p = ports.take(); p.ok()) {
        local = *p;
      }
      if (local) ingressPorts.emplace_back(number, local);
    }
  }

  // --- following the directory ----------------------------------------------------------

  void reload() {
    ServiceAddresses seen;
    std::function<std::string(const std::string&)> clusterIps;
    if (network) {
      clusterIps = [this, &seen](const std::string& text) {
        return withClusterIps(text, [this, &seen](const std::string& ns, const std::string& name) {
          return serviceAddressFor(ns, name, seen);
        });
      };
    }
    MirrorResult mirrored = syncMirror(dir, mirror, clusterIps, stateDir);
    if (network && seen != services) {
      services = seen;
      for (auto& [key, run] : running) {
        for (auto& pod : run->pods) {
          network->updateHosts(pod->netns, podHostsFile(run->workload.ns, pod->pod.name,
                                                        pod->pod.address, services));
        }
      }
      if (up) writeStateFile();  // scripts find a new Service's address there
    }
    for (const auto& e : mirrored.errors) report("config", e);
    watch(mirrored.watched);
    core::config::LoadResult loaded = core::config::loadPath(mirror);
    // Problems are told in the user's files, not in the copy that was read.
    for (auto& e : loaded.errors) {
      std::tie(e.file, e.line) = placeInDir(mirrored, dir, mirror, e.file, e.line);
    }
    for (auto& r : loaded.resources) {
      std::tie(r.file, r.line) = placeInDir(mirrored, dir, mirror, r.file, r.line);
    }
    if (options.ingress) planIngressPorts(loaded.resources);
    WorkloadSet set = extractWorkloads(loaded.resources);
    // Said once per distinct set of problems, not on every reload.
    std::string problems = core::config::formatErrors(loaded.errors);
    for (const auto& e : set.errors) problems += e + "\n";
    if (problems != lastProblems) {
      lastProblems = problems;
      if (!problems.empty())
        std::fprintf(stderr, "mesh up: config problems:\n%s", problems.c_str());
    }
    // A Deployment in a file that has errors now is kept as it runs: a bad edit does not take
    // pods away (pilot keeps the last good Istio resources the same way).
    std::set<std::string> broken = set.brokenFiles;
    for (const auto& e : loaded.errors) broken.insert(e.file);
    std::set<std::string> wanted;
    for (const auto& w : set.workloads) {
      wanted.insert(w.key());
      auto it = running.find(w.key());
      if (it != running.end() && it->second->workload.podFingerprint() == w.podFingerprint()) {
        if (it->second->workload.replicas != w.replicas) scale(*it->second, w);
        continue;
      }
      if (it != running.end()) {
        if (up) say("workload " + w.key() + " changed: restarting its pods");
        retire(std::move(it->second));
        running.erase(it);
      } else if (up) {
        say("workload " + w.key() + " added");
      }
      startWorkload(w);
    }
    if (tokens && !stopping && !probeTimer.isActive()) {
      probeTimer.startRepeating(kProbeEvery, [this] { probe(); });
    }
    for (auto it = running.begin(); it != running.end();) {
      const std::string& source = it->second->workload.source;
      if (wanted.count(it->first) || broken.count(source.substr(0, source.rfind(':')))) {
        ++it;
        continue;
      }
      say("workload " + it->first + " removed");
      retire(std::move(it->second));
      it = running.erase(it);
    }
  }

  void watch(const std::vector<fs::path>& dirs) {
    std::set<fs::path> wanted(dirs.begin(), dirs.end());
    for (auto it = watches.begin(); it != watches.end();) {
      it = wanted.count(it->first) ? std::next(it) : watches.erase(it);
    }
    for (const auto& d : dirs) {
      if (watches.count(d)) continue;
      auto w = std::make_unique<core::FsWatch>(loop);
      Status s = w->start(d.string(), [this](const core::FsChange&) {
        if (!stopping) debounce.start(kDebounce, [this] { reload(); });
      });
      if (s.ok()) watches.emplace(d, std::move(w));
    }
  }

  // --- readiness ------------------------------------------------------------------------

  std::vector<PodRun*> pods() {
    std::vector<PodRun*> out;
    for (auto& [key, run] : running) {
      for (auto& pod : run->pods) out.push_back(pod.get());
    }
    if (ingress) out.push_back(ingress.get());
    return out;
  }

  // One probe at a time per pod: the sidecar's /healthz/ready until it answers 200, then the
  // app's port until it accepts a connection (Kubernetes' tcpSocket probe: an HTTP request
  // would make an echo app call its peers, and not every app speaks HTTP).
  void probe() {
    bool all = true;
    for (PodRun* pr : pods()) {
      if (pr->ready) continue;
      all = false;
      if (probes.count(pr) || appProbes.count(pr)) continue;
      if (pr->sidecarReady) {
        probeApp(pr);
        continue;
      }
      echo::FetchRequest request;
      request.url.host = pr->pod.address.empty() ? "127.0.0.1" : pr->pod.address;
      request.url.port = static_cast<std::uint16_t>(pr->pod.ports.readiness);
      request.url.authority = request.url.host + ":" + std::to_string(pr->pod.ports.readiness);
      request.url.target = "/healthz/ready";
      request.timeout = std::chrono::seconds(1);
      auto fetch = std::make_unique<echo::Fetch>(loop, resolver, std::move(request),
                                                 [this, pr](echo::FetchResult r) {
                                                   if (r.status == 200) onSidecarReady(*pr);
                                                   probes.erase(pr);
                                                 });
      fetch->start();
      probes[pr] = std::move(fetch);
    }
    if (all) {
      probeTimer.stop();  // until reload() starts new pods
      if (!up && !convergeTimer.isActive()) awaitConvergence();
      return;
    }
    if (!up && !waitNoted && std::chrono::steady_clock::now() - startedAt > kWaitNote) {
      waitNoted = true;
      std::string names;
      for (PodRun* pr : pods()) {
        if (!pr->ready) names += (names.empty() ? "" : ", ") + pr->pod.name;
      }
      report("still waiting for", names + " to be ready; logs in " + logs.string());
    }
  }

  void probeApp(PodRun* pr) {
    if (network && !pr->netns.name.empty()) {
      // The app listens on its pod's loopback, which only a socket made in the pod reaches.
      if (network->acceptsLocally(pr->netns, static_cast<std::uint16_t>(pr->pod.ports.app)))
        onReady(*pr);
      return;
    }
    auto tcp = std::make_unique<core::TcpStream>(loop);
    auto address = core::SocketAddress::loopbackV4(static_cast<std::uint16_t>(pr->pod.ports.app));
    core::Status s = tcp->connect(address, [this, pr](core::Status st) {
      if (st.ok()) onReady(*pr);
      // Not from inside the stream's own callback: the next loop turn.
      auto it = appProbes.find(pr);
      if (it != appProbes.end()) {
        core::deferredDelete(loop, std::move(it->second));
        appProbes.erase(it);
      }
    });
    if (s.ok()) appProbes[pr] = std::move(tcp);
  }

  void onSidecarReady(PodRun& pr) {
    pr.sidecarReady = true;
    if (pr.app && !pr.appStarted && !stopping) {
      pr.appStarted = true;
      if (Status s = pr.app->start(); !s.ok())
        report(pr.app->name(), "cannot start: " + s.message());
    }
    // A gateway has no app; an app without a containerPort has nothing to probe.
    if (!pr.app || pr.pod.workload->ports.empty()) onReady(pr);
  }

  void onReady(PodRun& pr) {
    pr.ready = true;
    if (up) {
      say(pr.pod.name + " is ready: app " + podUrl(pr.pod, pr.pod.ports.app) + ", admin " +
          podUrl(pr.pod, pr.pod.ports.admin));
      writeStateFile();
    }
  }

  // Every pod is ready, but a sidecar that became ready early may not have heard yet of the
  // pods that registered after it. "mesh is up" waits until pilot has pushed everything:
  // every proxy SYNCED with nothing pending (no round due, no frame queued or being written),
  // on the same versions in two polls of /debug/syncz in a row, so the first request does not
  // meet a sidecar without its peer's endpoint. Never more than
  // kConvergeAtMost: a mesh that cannot converge is still reported.
  void awaitConvergence() {
    lastSync.clear();
    convergeSince = std::chrono::steady_clock::now();
    convergeTimer.startRepeating(kConvergePoll, [this] { pollSync(); });
  }

  void pollSync() {
    if (syncProbe) return;
    if (std::chrono::steady_clock::now() - convergeSince > kConvergeAtMost) {
      report("pilot", "proxies not all in sync yet; see " + url(monitorPort, "/debug/syncz"));
      convergeTimer.stop();
      onAllReady();
      return;
    }
    echo::FetchRequest request;
    request.url.host = "127.0.0.1";
    request.url.port = static_cast<std::uint16_t>(monitorPort);
    request.url.authority = "127.0.0.1:" + std::to_string(monitorPort);
    request.url.target = "/debug/syncz";
    request.timeout = std::chrono::seconds(1);
    syncProbe = std::make_unique<echo::Fetch>(loop, resolver, std::move(request),
                                              [this](echo::FetchResult r) { onSync(r); });
    syncProbe->start();
  }

  void onSync(const echo::FetchResult& r) {
    core::deferredDelete(loop, std::move(syncProbe));
    if (up || r.status != 200) return;
    auto proxies = nlohmann::json::parse(r.body, nullptr, false);
    if (!proxies.is_array() || proxies.size() < pods().size()) return;
    std::vector<std::string> entries;
    for (const auto& p : proxies) {
      if (p.value("state", "") != "SYNCED" || p.value("pending", false)) {
        lastSync.clear();
        return;
      }
      entries.push_back(p.value("proxy", "") + "=" + p.value("sent", ""));
    }
    std::sort(entries.begin(), entries.end());
    std::string now;
    for (const auto& e : entries) now += e + "\n";
    if (now != lastSync) {
      lastSync = now;
      return;
    }
    convergeTimer.stop();
    onAllReady();
  }

  void onAllReady() {
    up = true;
    std::vector<TableRow> rows;
    for (PodRun* pr : pods()) {
      const auto& p = pr->pod.ports;
      std::string app = pr == ingress.get()
                            ? (ingressPorts.empty() ? "-" : url(ingressPorts.front().second))
                            : podUrl(pr->pod, p.app);
      rows.push_back({pr->pod.name, pr->pod.workload->ns, pr->identity, app,
                      podUrl(pr->pod, p.admin), podUrl(pr->pod, p.admin, "/stats/prometheus")});
    }
    say(formatTable(rows));
    if (ingress && !ingressPorts.empty()) {
      for (const auto& [from, to] : ingressPorts) {
        say("ingress: Gateway port " + std::to_string(from) + " is served on " + url(to));
      }
    }
    writeStateFile();
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - startedAt).count();
    char took[32];
    std::snprintf(took, sizeof took, "%.1f", seconds);
    say(std::string("mesh is up (") + took + " s); state and logs in " + stateDir.string() +
        "; Ctrl-C stops it");
  }

  // mesh-up.json: every process and port, for scripts and tests.
  void writeStateFile() {
    nlohmann::json list = nlohmann::json::array();
    for (PodRun* pr : pods()) {
      const auto& p = pr->pod.ports;
      list.push_back({{"name", pr->pod.name},
                      {"namespace", pr->pod.workload->ns},
                      {"identity", pr->identity},
                      {"gateway", pr == ingress.get()},
                      {"ready", pr->ready},
                      {"app", p.app},
                      {"sidecar", p.sidecar},
                      {"outbound", p.outbound},
                      {"admin", p.admin},
                      {"readiness", p.readiness},
                      {"address", pr->pod.address.empty() ? "127.0.0.1" : pr->pod.address},
                      {"netns", pr->netns.name},
                      {"pids",
                       {{"sidecar", pr->sidecar ? pr->sidecar->pid() : 0},
                        {"app", pr->app ? pr->app->pid() : 0}}}});
    }
    nlohmann::json ingressJson = nlohmann::json::object();
    for (const auto& [from, to] : ingressPorts) ingressJson[std::to_string(from)] = to;
    nlohmann::json state = {{"pilot", control.pilotAddress},
                            {"ca", control.caAddress},
                            {"monitor", "127.0.0.1:" + std::to_string(monitorPort)},
                            {"pilotPid", pilot ? pilot->pid() : 0},
                            {"mesh", getpid()},
                            {"dir", dir.string()},
                            {"ingress", ingressJson},
                            {"pods", list}};
    if (network) {
      state["bridge"] = {{"name", network->bridge()}, {"address", network->hostAddress()}};
      state["services"] = services;
    }
    fs::path path = stateDir / "mesh-up.json";
    std::ofstream out(path.string() + ".tmp", std::ios::trunc);
    out << state.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    out.close();
    std::error_code ec;
    fs::rename(path.string() + ".tmp", path, ec);
  }

  // --- stopping -------------------------------------------------------------------------

  void stopAll() {
    if (stopping) {
      // A second Ctrl-C: no more waiting.
      for (PodRun* pr : pods()) {
        if (pr->app) pr->app->kill();
        if (pr->sidecar) pr->sidecar->kill();
      }
      if (pilot) pilot->kill();
      loop.stop();
      return;
    }
    stopping = true;
    say("stopping");
    debounce.stop();
    pilotWait.stop();
    probeTimer.stop();
    convergeTimer.stop();
    stateRefresh.stop();
    probes.clear();
    appProbes.clear();
    watches.clear();
    auto left = std::make_shared<int>(1);
    auto finished = [this, left] {
      if (--*left == 0) stopPilot();
    };
    for (PodRun* pr : pods()) {
      for (auto* child : {pr->app.get(), pr->sidecar.get()}) {
        if (!child) continue;
        ++*left;
        child->stop(options.grace, finished);
      }
    }
    for (auto& run : retiring) {
      for (auto& pod : run->pods) {
        for (auto* child : {pod->app.get(), pod->sidecar.get()}) {
          ++*left;
          child->stop(options.grace, finished);
        }
      }
    }
    finished();
  }

  void stopPilot() {
    if (!pilot) return loop.stop();
    pilot->stop(options.grace, [this] { loop.stop(); });
  }
};

LocalMesh::LocalMesh(core::Loop& loop, UpOptions options)
    : state_(std::make_unique<State>(loop, std::move(options))) {}

LocalMesh::~LocalMesh() {
  if (!state_) return;
  State& s = *state_;
  // Children still running are killed and reaped by their Process objects.
  s.probes.clear();
  s.appProbes.clear();
  s.watches.clear();
  s.running.clear();
  s.retiring.clear();
  s.ingress.reset();
  s.pilot.reset();
  s.network.reset();  // every pod's process is gone: namespaces, links, files and rules
  if (s.ownsStateDir) {
    std::error_code ec;
    fs::remove_all(s.stateDir, ec);
  }
}

int LocalMesh::run() {
  State& s = *state_;
  // Each pod holds a few reserved ports (free_ports.h): allow as many descriptors as we may.
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &files);
  }
  if (s.options.netns) {
    auto network = PodNetwork::create();
    if (!network.ok()) return s.fail(network.status().message());
    s.network = std::move(*network);
  }
  if (Status st = s.prepareDirectories(); !st.ok()) return s.fail(st.message());
  if (s.network) {
    // Sidecars run as kProxyUid and read their own directory under it.
    ::chmod(s.stateDir.c_str(), 0711);
    std::error_code ec;
    fs::create_directories(s.stateDir / "pods", ec);
    ::chmod((s.stateDir / "pods").c_str(), 0711);
  }
  (void)s.sigint.start(SIGINT, [&s](int) { s.stopAll(); });
  (void)s.sigterm.start(SIGTERM, [&s](int) { s.stopAll(); });
  s.say("mesh up: " + s.dir.string() +
        (s.options.dir.empty() ? " (the built-in Bookinfo demo)" : ""));
  if (Status st = s.startPilot(); !st.ok()) return s.fail("starting pilot: " + st.message());
  // Each reload parses DIR and plans every workload, then drops all of it but the plan: the
  // freed memory goes back between reloads, as in pilot and the proxies (heap.h).
  core::HeapTrimmer trimmer(s.loop);
  trimmer.every(std::chrono::seconds(2));
  s.loop.run();
  s.sigint.stop();
  s.sigterm.stop();
  s.debounce.stop();
  s.pilotWait.stop();
  s.probeTimer.stop();
  s.convergeTimer.stop();
  if (s.exitCode == 0) s.say("stopped");
  return s.exitCode;
}

}  // namespace mesh::cmd::up
