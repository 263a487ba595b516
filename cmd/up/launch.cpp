#include "cmd/up/launch.h"

#include <set>
#include <string_view>

namespace mesh::cmd::up {

std::string expandVars(const std::string& text, const std::map<std::string, std::string>& env) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    if (text[i + 1] == '$') {  // "$$" is an escaped "$"
      out += '$';
      ++i;
      continue;
    }
    std::size_t close = text[i + 1] == '(' ? text.find(')', i + 2) : std::string::npos;
    if (close == std::string::npos) {
      out += text[i];
      continue;
    }
    auto it = env.find(text.substr(i + 2, close - i - 2));
    if (it == env.end()) {
      out += text.substr(i, close - i + 1);  // unknown: left as written, as Kubernetes does
    } else {
      out += it->second;
    }
    i = close;
  }
  return out;
}

std::map<std::string, std::string> podEnv(const Pod& pod) {
  const Workload& w = *pod.workload;
  std::map<std::string, std::string> env;
  for (const auto& var : w.env) {
    if (var.fieldPath == "metadata.name") {
      env[var.name] = pod.name;
    } else if (var.fieldPath == "metadata.namespace") {
      env[var.name] = w.ns;
    } else if (var.fieldPath == "spec.serviceAccountName") {
      env[var.name] = w.serviceAccount;
    } else if (var.fieldPath.empty()) {
      env[var.name] = expandVars(var.value, env);
    }
  }
  env["POD_NAME"] = pod.name;
  env["POD_NAMESPACE"] = w.ns;
  env["SERVICE_ACCOUNT"] = w.serviceAccount;
  if (pod.address.empty())
    env["http_proxy"] = "http://127.0.0.1:" + std::to_string(pod.ports.outbound);
  return env;
}

std::vector<std::string> appArgv(const Pod& pod, const std::string& self,
                                 const std::map<std::string, std::string>& env) {
  const Workload& w = *pod.workload;
  std::vector<std::string> argv;
  for (const auto& arg : w.command) argv.push_back(expandVars(arg, env));
  if (!argv.empty() && argv[0] == "mesh") argv[0] = self;
  if (w.ports.empty()) return argv;
  std::string container = std::to_string(w.ports.front());
  std::string local = std::to_string(pod.ports.app);
  bool hasPort = false;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    if (argv[i] == "--port" && i + 1 < argv.size()) {
      hasPort = true;
      if (argv[i + 1] == container) argv[i + 1] = local;
      ++i;
    } else if (argv[i].rfind("--port=", 0) == 0) {
      hasPort = true;
      if (argv[i].substr(7) == container) argv[i] = "--port=" + local;
    }
  }
  if (!hasPort) {
    argv.push_back("--port");
    argv.push_back(local);
  }
  return argv;
}

std::vector<std::string> sidecarArgs(const Pod& pod, const ControlPlane& cp,
                                     const std::string& tokenFile) {
  const Workload& w = *pod.workload;
  auto port = [](std::uint32_t p) { return std::to_string(p); };
  auto at = [&](std::uint32_t p) { return "127.0.0.1:" + port(p); };
  const bool ownAddress = !pod.address.empty();
  const std::pair<std::string, std::string> flags[] = {
      {"--ca-address", cp.caAddress},
      {"--ca-root", cp.caRoot},
      {"--token-file", tokenFile},
      {"--pilot-address", cp.pilotAddress},
      {"--namespace", w.ns},
      {"--service-account", w.serviceAccount},
      {"--node", pod.name + "." + w.ns},
      {"--address", ownAddress ? pod.address : "127.0.0.1"},
      // In its own namespace the sidecar keeps Istio's ports (15001, 15006) and binds them as
      // pilot says; the inbound port is announced all the same, as it is what tells peers (auto
      // mTLS) that the pod has a sidecar. Its admin port is on the pod's address, for the host.
      {"--sidecar-port", port(pod.ports.sidecar)},
      {"--inbound-address", "127.0.0.1"},
      {"--listener-port", "15001=" + at(pod.ports.outbound)},
      {"--admin", ownAddress ? pod.address + ":" + port(pod.ports.admin) : at(pod.ports.admin)},
      {"--readiness",
       ownAddress ? "0.0.0.0:" + port(pod.ports.readiness) : at(pod.ports.readiness)},
      {"--workload", w.name},
      // Metrics are read on the admin port: no second port per proxy, and nothing on
      // 0.0.0.0:15090, which the first proxy would take from the others.
      {"--stats", ""},
      {"--concurrency", "1"},
      {"--drain-seconds", "1"},
  };
  std::vector<std::string> args = {"proxy"};
  for (const auto& [flag, value] : flags) {
    if (ownAddress && (flag == "--inbound-address" || flag == "--listener-port")) {
      continue;
    }
    args.push_back(flag);
    args.push_back(value);
  }
  for (const auto& [k, v] : w.labels) {
    args.push_back("--label");
    args.push_back(k + "=" + v);
  }
  for (std::size_t i = 0; i < w.ports.size(); ++i) {
    args.push_back("--port");
    args.push_back(port(w.ports[i]));
  }
  // Only the first containerPort has a local port of its own: an app here listens on one.
  if (!w.ports.empty() && !ownAddress) {
    args.push_back("--app-port");
    args.push_back(port(w.ports.front()) + "=" + port(pod.ports.app));
  }
  args.insert(args.end(), cp.proxyFlags.begin(), cp.proxyFlags.end());
  return args;
}

std::vector<std::string> gatewayArgs(
    const Pod& pod, const ControlPlane& cp, const std::string& tokenFile,
    const std::vector<std::pair<std::uint32_t, std::uint32_t>>& listenerPorts) {
  const Workload& w = *pod.workload;
  auto at = [](std::uint32_t p) { return "127.0.0.1:" + std::to_string(p); };
  const std::pair<std::string, std::string> flags[] = {
      {"--gateway-address", "127.0.0.1"},
      {"--ca-address", cp.caAddress},
      {"--ca-root", cp.caRoot},
      {"--token-file", tokenFile},
      {"--pilot-address", cp.pilotAddress},
      {"--namespace", w.ns},
      {"--service-account", w.serviceAccount},
      {"--node", pod.name + "." + w.ns},
      {"--admin", at(pod.ports.admin)},
      {"--readiness", at(pod.ports.readiness)},
      {"--workload", w.name},
      {"--stats", ""},
      {"--concurrency", "1"},
      {"--drain-seconds", "1"},
  };
  std::vector<std::string> args = {"proxy", "--gateway"};
  for (const auto& [flag, value] : flags) {
    args.push_back(flag);
    args.push_back(value);
  }
  for (const auto& [k, v] : w.labels) {
    args.push_back("--label");
    args.push_back(k + "=" + v);
  }
  for (const auto& [from, to] : listenerPorts) {
    args.push_back("--listener-port");
    args.push_back(std::to_string(from) + "=" + at(to));
  }
  args.insert(args.end(), cp.proxyFlags.begin(), cp.proxyFlags.end());
  return args;
}

std::vector<std::string> childEnvironment(char** ours,
                                          const std::map<std::string, std::string>& extra) {
  static const std::set<std::string> kDropped = {"http_proxy",  "HTTP_PROXY", "https_proxy",
                                                 "HTTPS_PROXY", "no_proxy",   "NO_PROXY",
                                                 "all_proxy",   "ALL_PROXY"};
  std::vector<std::string> env;
  for (char** e = ours; e && *e; ++e) {
    std::string entry = *e;
    std::string name = entry.substr(0, entry.find('='));
    if (kDropped.count(name) || extra.count(name)) continue;
    env.push_back(std::move(entry));
  }
  for (const auto& [k, v] : extra) env.push_back(k + "=" + v);
  return env;
}

std::vector<std::string> meshEnvironment(char** ours,
                                         const std::map<std::string, std::string>& extra) {
  constexpr std::string_view kTunables[] = {"glibc.malloc.tcache_count=0",
                                            "glibc.malloc.mxfast=0"};
  std::string tunables;
  for (char** e = ours; e && *e; ++e) {
    std::string_view entry = *e;
    if (entry.starts_with("GLIBC_TUNABLES=")) tunables = entry.substr(15);
  }
  if (auto it = extra.find("GLIBC_TUNABLES"); it != extra.end()) tunables = it->second;
  // One the caller chose is kept.
  for (std::string_view tunable : kTunables) {
    std::string_view name = tunable.substr(0, tunable.find('=') + 1);
    if (tunables.find(name) != std::string::npos) continue;
    if (!tunables.empty()) tunables += ':';
    tunables += tunable;
  }
  auto withTunables = extra;
  withTunables["GLIBC_TUNABLES"] = tunables;
  return childEnvironment(ours, withTunables);
}

}  // namespace mesh::cmd::up
