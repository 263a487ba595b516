#include "cmd/up/pod_network.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

extern char** environ;

namespace mesh::cmd::up {

namespace fs = std::filesystem;
using core::Result;
using core::Status;

namespace {

const char* const kRunNetns = "/run/netns";
const char* const kEtcNetns = "/etc/netns";

std::string findProgram(const std::string& name) {
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin";
  std::stringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    fs::path candidate = fs::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return {};
}

// Runs argv to its end; its stdout and stderr in `output`. Blocking, for short commands.
Status runCommand(const std::vector<std::string>& argv, std::string* output = nullptr) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return core::error(core::Code::internal, "pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // mesh up blocks SIGINT/SIGTERM for its loop; the command must not inherit that.
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(pipefd[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; rc == 0 && (n = ::read(pipefd[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(pipefd[0]);
  if (output) *output = out;
  std::string line;
  for (const auto& a : argv) line += (line.empty() ? "" : " ") + a;
  if (rc != 0) return core::error(core::Code::internal, line + ": " + std::strerror(rc));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return core::error(core::Code::internal, line + " failed: " + out);
  }
  return {};
}

// This process counts as gone: what an earlier holder of our pid left is not ours.
bool pidAlive(long pid) {
  if (pid <= 0 || pid == ::getpid()) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

// The pid in a name made by a run of mesh up ("mu<pid>", "mu<pid>v3", "mu<pid>-pod"), or 0.
long tagPid(const std::string& name) {
  static const std::regex pattern("^mu([0-9]+)(v[0-9]+|-.*)?$");
  std::smatch m;
  if (!std::regex_match(name, m, pattern)) return 0;
  return std::strtol(m[1].str().c_str(), nullptr, 10);
}

std::string dotted(std::uint32_t address) {
  in_addr a{htonl(address)};
  char text[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, &a, text, sizeof text);
  return text;
}

// Networks in use on this host (addresses and routes), as (base, prefix length).
std::vector<std::pair<std::uint32_t, int>> usedNetworks(const std::string& ip) {
  std::vector<std::pair<std::uint32_t, int>> used;
  std::string addrs, routes;
  (void)runCommand({ip, "-4", "-o", "addr"}, &addrs);
  (void)runCommand({ip, "-4", "route"}, &routes);
  static const std::regex cidr(R"((\d+\.\d+\.\d+\.\d+)(/(\d+))?)");
  std::string all = addrs + "\n" + routes;
  for (std::sregex_iterator it(all.begin(), all.end(), cidr), end; it != end; ++it) {
    in_addr a{};
    if (::inet_pton(AF_INET, (*it)[1].str().c_str(), &a) != 1) continue;
    int len = (*it)[3].matched ? std::atoi((*it)[3].str().c_str()) : 32;
    if (len <= 0 || len > 32) continue;  // a default route overlaps everything
    used.emplace_back(ntohl(a.s_addr), len);
  }
  return used;
}

bool overlaps(std::uint32_t base, int len, const std::vector<std::pair<std::uint32_t, int>>& used) {
  for (const auto& [b, l] : used) {
    int shorter = std::min(len, l);
    std::uint32_t mask = shorter == 0 ? 0 : ~std::uint32_t{0} << (32 - shorter);
    if ((base & mask) == (b & mask)) return true;
  }
  return false;
}

// What runs of mesh up that are gone left behind: namespaces (and the processes still in
// them), /etc/netns directories, links and FORWARD rules whose tag names a pid that no longer
// runs. Its pilot and ingress gateway, in the host's namespace, are not recognised here.
void removeLeftovers(const std::string& ip, const std::string& iptables) {
  std::error_code ec;
  for (const char* dir : {kRunNetns, kEtcNetns}) {
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      long pid = tagPid(name);
      if (pid == 0 || pidAlive(pid)) continue;
      if (std::string(dir) == kRunNetns) {
        // Its apps and sidecars outlived it (SIGKILL leaves children running): they go first.
        std::string pids;
        (void)runCommand({ip, "netns", "pids", name}, &pids);
        std::stringstream list(pids);
        for (long pid; list >> pid;) {
          if (pid > 1 && pid != ::getpid()) ::kill(static_cast<pid_t>(pid), SIGKILL);
        }
        (void)runCommand({ip, "netns", "del", name});
      } else {
        fs::remove_all(it->path(), ec);
      }
    }
  }
  std::string links;
  (void)runCommand({ip, "-o", "link", "show"}, &links);
  static const std::regex linkName(R"(^\d+: ([^:@ ]+))");
  std::stringstream lines(links);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, linkName)) continue;
    long pid = tagPid(m[1].str());
    if (pid != 0 && !pidAlive(pid)) (void)runCommand({ip, "link", "del", m[1].str()});
  }
  std::string rules;
  (void)runCommand({iptables, "-w", "-S", "FORWARD"}, &rules);
  static const std::regex ours(R"(--comment "?mesh-up-mu([0-9]+))");
  std::stringstream ruleLines(rules);
  for (std::string line; std::getline(ruleLines, line);) {
    std::smatch m;
    if (line.rfind("-A FORWARD ", 0) != 0 || !std::regex_search(line, m, ours)) continue;
    if (pidAlive(std::strtol(m[1].str().c_str(), nullptr, 10))) continue;
    std::vector<std::string> argv = {iptables, "-w", "-D"};
    std::stringstream words(line.substr(3));
    for (std::string w; words >> w;) argv.push_back(w);
    (void)runCommand(argv);
  }
}

bool writeFileInPlace(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  return out && (out << text) && out.flush();
}

}  // namespace

Result<std::unique_ptr<PodNetwork>> PodNetwork::create() {
  if (::geteuid() != 0) {
    return core::error(core::Code::invalid,
                       "--netns needs root (it makes network namespaces, links and iptables "
                       "rules); run it as root, or without --netns");
  }
  std::unique_ptr<PodNetwork> net(new PodNetwork());
  net->ip_ = findProgram("ip");
  net->setpriv_ = findProgram("setpriv");
  net->iptables_ = findProgram("iptables");
  for (const auto& [name, path] : {std::pair<const char*, const std::string&>{"ip", net->ip_},
                                   {"setpriv", net->setpriv_},
                                   {"iptables", net->iptables_}}) {
    if (path.empty()) {
      return core::error(core::Code::invalid, std::string("--netns needs the `") + name +
                                                  "` program (iproute2, util-linux, iptables)");
    }
  }
  if (Status s = net->setUp(); !s.ok()) {
    net->teardown();
    return s;
  }
  return net;
}

Status PodNetwork::setUp() {
  removeLeftovers(ip_, iptables_);
  tag_ = "mu" + std::to_string(::getpid());
  bridge_ = tag_;
  // A /23 in 10.16.0.0/12 that nothing here uses: pods in the first /24, services the second.
  auto used = usedNetworks(ip_);
  const std::uint32_t pid = static_cast<std::uint32_t>(::getpid());
  for (std::uint32_t i = 0; i < 2048 && podNet_ == 0; ++i) {
    std::uint32_t block = (pid + i) % 2048;  // 2048 /23s in a /12
    std::uint32_t base = (10u << 24) | (16u << 16) | (block << 9);
    if (!overlaps(base, 23, used)) podNet_ = base;
  }
  if (podNet_ == 0) return core::error(core::Code::internal, "no free /23 in 10.16.0.0/12");
  std::error_code ec;
  etcNetnsWasThere_ = fs::is_directory(kEtcNetns, ec);
  std::string cidr = dotted(podNet_ + 1) + "/24";
  if (Status s = runCommand({ip_, "link", "add", bridge_, "type", "bridge"}); !s.ok()) return s;
  if (Status s = runCommand({ip_, "addr", "add", cidr, "dev", bridge_}); !s.ok()) return s;
  if (Status s = runCommand({ip_, "link", "set", bridge_, "up"}); !s.ok()) return s;
  hostAddress_ = dotted(podNet_ + 1);
  // Hosts with br_netfilter (Docker's) filter bridged frames in FORWARD, often with a DROP
  // policy: the pods' frames cross this bridge whatever that policy says.
  std::vector<std::string> rule = {"FORWARD", "-i",        bridge_,           "-o", bridge_, "-m",
                                   "comment", "--comment", "mesh-up-" + tag_, "-j", "ACCEPT"};
  std::vector<std::string> insert = {iptables_, "-w", "-I"};
  insert.insert(insert.end(), rule.begin(), rule.end());
  if (Status s = runCommand(insert); !s.ok()) return s;
  forwardRule_ = rule;
  return {};
}

Result<PodNetns> PodNetwork::addPod(const std::string& podName, const std::string& resolv) {
  if (nextPod_ > 254) return core::error(core::Code::internal, "no pod address left in the /24");
  PodNetns pod;
  // Numbered: a pod replaced by a new one of the same name may still be stopping.
  pod.name = tag_ + "-" + std::to_string(podCount_) + "-" + podName;
  pod.address = dotted(podNet_ + nextPod_++);
  pod.hostLink = tag_ + "v" + std::to_string(podCount_++);
  pods_[pod.name] = pod;
  fs::path etc = fs::path(kEtcNetns) / pod.name;
  std::error_code ec;
  fs::create_directories(etc, ec);
  if (ec || !writeFileInPlace(etc / "hosts", "127.0.0.1 localhost\n") ||
      !writeFileInPlace(etc / "resolv.conf", resolv)) {
    removePod(pod);
    return core::error(core::Code::internal, "cannot write " + etc.string());
  }
  const std::vector<std::vector<std::string>> steps = {
      {ip_, "netns", "add", pod.name},
      {ip_, "link", "add", pod.hostLink, "type", "veth", "peer", "name", "eth0", "netns", pod.name},
      {ip_, "link", "set", pod.hostLink, "master", bridge_, "up"},
      {ip_, "-n", pod.name, "addr", "add", pod.address + "/24", "dev", "eth0"},
      {ip_, "-n", pod.name, "link", "set", "eth0", "up"},
      {ip_, "-n", pod.name, "link", "set", "lo", "up"},
      {ip_, "-n", pod.name, "route", "add", "default", "via", hostAddress_},
  };
  for (const auto& step : steps) {
    if (Status s = runCommand(step); !s.ok()) {
      removePod(pod);
      return s;
    }
  }
  return pod;
}

void PodNetwork::updateHosts(const PodNetns& pod, const std::string& hosts) {
  (void)writeFileInPlace(fs::path(kEtcNetns) / pod.name / "hosts", hosts);
}

void PodNetwork::removePod(const PodNetns& pod) {
  // The namespace goes with its last process; eth0 with it, and the host end with eth0.
  (void)runCommand({ip_, "netns", "del", pod.name});
  std::string out;
  if (runCommand({ip_, "link", "show", pod.hostLink}, &out).ok())
    (void)runCommand({ip_, "link", "del", pod.hostLink});
  std::error_code ec;
  fs::remove_all(fs::path(kEtcNetns) / pod.name, ec);
  pods_.erase(pod.name);
}

std::string PodNetwork::serviceAddress() {
  if (nextService_ > 254) return {};
  return dotted(podNet_ + 256 + nextService_++);
}

std::vector<std::string> PodNetwork::inPod(const PodNetns& pod, bool asProxy,
                                           const std::vector<std::string>& argv) const {
  std::vector<std::string> out = {ip_, "netns", "exec", pod.name};
  if (asProxy) {
    std::string id = std::to_string(kProxyUid);
    out.insert(out.end(), {setpriv_, "--reuid=" + id, "--regid=" + id, "--clear-groups"});
  }
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

Status PodNetwork::runInPod(const PodNetns& pod, const std::vector<std::string>& argv) const {
  return runCommand(inPod(pod, false, argv));
}

bool PodNetwork::acceptsLocally(const PodNetns& pod, std::uint16_t port) const {
  // The socket is made inside the pod's namespace (setns affects this thread only) and
  // connected from here: a connection on the pod's loopback answers at once either way.
  int target = ::open((fs::path(kRunNetns) / pod.name).c_str(), O_RDONLY | O_CLOEXEC);
  int home = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  int fd = -1;
  if (target >= 0 && home >= 0 && ::setns(target, CLONE_NEWNET) == 0) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::setns(home, CLONE_NEWNET) != 0) std::abort();  // never run on in a pod's namespace
  }
  if (target >= 0) ::close(target);
  if (home >= 0) ::close(home);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

void PodNetwork::teardown() {
  while (!pods_.empty()) removePod(pods_.begin()->second);
  if (!bridge_.empty()) {
    std::string out;
    if (runCommand({ip_, "link", "show", bridge_}, &out).ok())
      (void)runCommand({ip_, "link", "del", bridge_});
  }
  if (!forwardRule_.empty()) {
    std::vector<std::string> del = {iptables_, "-w", "-D"};
    del.insert(del.end(), forwardRule_.begin(), forwardRule_.end());
    (void)runCommand(del);
    forwardRule_.clear();
  }
  std::error_code ec;
  if (!etcNetnsWasThere_) fs::remove(kEtcNetns, ec);  // only when empty: other runs' pods
  etcNetnsWasThere_ = true;
}

PodNetwork::~PodNetwork() { teardown(); }

}  // namespace mesh::cmd::up
