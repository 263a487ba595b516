// How one pod of a workload becomes two local processes, the app and its sidecar: their
// command lines and environments. Pure functions of the workload and the ports mesh up chose.
//
// The app's port: pods of different workloads all want their containerPort (9080 for every
// Bookinfo app), which cannot be shared on one host. Each pod's app gets a free local port
// instead, passed on its command line: every `--port V` / `--port=V` whose V is the
// containerPort is rewritten to the local port, and when the command has no --port, `--port
// LOCAL` is appended. The sidecar keeps announcing the containerPort to pilot (so Services
// and their targetPorts match as in Kubernetes) and sends inbound requests for it to the
// local port (`mesh proxy --app-port CONTAINER=LOCAL`).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "cmd/up/workload.h"

namespace mesh::cmd::up {

// Where one pod's pieces listen, all on 127.0.0.1.
struct PodPorts {
  std::uint32_t app = 0;       // the app's local port (for the first containerPort)
  std::uint32_t sidecar = 0;   // the sidecar's inbound (mTLS) listener
  std::uint32_t outbound = 0;  // the sidecar's outbound listener: the app's http_proxy
  std::uint32_t admin = 0;
  std::uint32_t readiness = 0;
};

struct Pod {
  std::string name;  // "<deployment>-<replica>"
  const Workload* workload = nullptr;
  PodPorts ports;
  // --netns: the pod's own address in its network namespace. Its app listens on the
  // containerPort, its sidecar on Istio's ports and captures its traffic with iptables (no
  // http_proxy). Empty: everything on 127.0.0.1, on the ports above.
  std::string address;
};

// Where the control plane is, for the sidecar's command line.
struct ControlPlane {
  std::string self;       // this binary (/proc/self/exe)
  std::string caAddress;  // 127.0.0.1:port
  std::string caRoot;     // trust-bundle.pem of the CA's data directory
  std::string pilotAddress;
  std::vector<std::string> proxyFlags;  // added to every sidecar's and the gateway's flags
};

// Kubernetes' $(VAR) expansion in command and args: references to variables of `env` are
// replaced, `$$` is a literal `$`, other references stay as written.
std::string expandVars(const std::string& text, const std::map<std::string, std::string>& env);

// The workload's env for `pod` (literal values and downward-API fields), then POD_NAME,
// POD_NAMESPACE, SERVICE_ACCOUNT and, unless the pod has its own address (its traffic is
// captured), http_proxy pointing at the sidecar's outbound port.
std::map<std::string, std::string> podEnv(const Pod& pod);

// The app's argv: `mesh` as the program is this binary, $(VAR) expanded, the port rewritten
// as the header says.
std::vector<std::string> appArgv(const Pod& pod, const std::string& self,
                                 const std::map<std::string, std::string>& env);

// The sidecar's argv (`mesh proxy ...`), without the program. `tokenFile` holds its bootstrap
// token.
std::vector<std::string> sidecarArgs(const Pod& pod, const ControlPlane& cp,
                                     const std::string& tokenFile);

// The ingress gateway's argv (`mesh proxy --gateway ...`), without the program: `pod` is the
// gateway's (no app, so only its admin and readiness ports count), `listenerPorts` maps each
// Gateway server port to the local port that serves it.
std::vector<std::string> gatewayArgs(
    const Pod& pod, const ControlPlane& cp, const std::string& tokenFile,
    const std::vector<std::pair<std::uint32_t, std::uint32_t>>& listenerPorts);

// The environment a child gets: ours without proxy settings (a child must not inherit the
// caller's proxy), with `extra` on top, as "NAME=value".
std::vector<std::string> childEnvironment(char** ours,
                                          const std::map<std::string, std::string>& extra);

// The same for mesh's own processes (pilot, the proxies, an app that is `mesh` itself), with
// glibc's per-thread malloc cache and its fast bins off (GLIBC_TUNABLES, added to the
// caller's). The cache keeps up to 7 freed blocks of each size per thread; fast bins keep
// freed blocks of up to 128 bytes apart, unmerged with their free neighbours. Both pin pages
// that the heap trim (core/base/heap.h) could otherwise give back: some 8 MiB and then 5 MiB
// over a 50-workload mesh, for a little CPU per allocation that a mesh on one machine does
// not miss.
std::vector<std::string> meshEnvironment(char** ours,
                                         const std::map<std::string, std::string>& extra = {});

}  // namespace mesh::cmd::up
