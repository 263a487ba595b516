// LocalMesh: `mesh up` as a whole. It runs, as child processes of this one and all on
// 127.0.0.1, the control plane (`mesh pilot` with its CA), then for every pod of every
// Deployment of the directory a `mesh proxy` sidecar and the app beside it, then the ingress
// gateway; waits until every proxy is ready and prints where everything is; follows edits of
// the directory (pilot reloads Istio resources itself, Deployments added, changed or removed
// start and stop pods here); restarts a child that dies, with backoff; and on SIGINT or
// SIGTERM stops every child (SIGTERM, then SIGKILL after a grace period) and returns 0.
// With `netns`, each pod runs in a network namespace of its own instead, its traffic
// captured by iptables, and pilot listens on the pods' bridge (pod_network.h).
//
// Ownership: the LocalMesh owns every Supervised child and the state directory's contents.
// What each pod's processes look like is in launch.h; the files handed to pilot, in
// config_mirror.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/loop/loop.h"

namespace mesh::cmd::up {

struct UpOptions {
  std::string dir;       // the Kubernetes and Istio YAML; empty: the built-in Bookinfo demo
  std::string stateDir;  // CA data, the config handed to pilot, tokens, logs; empty: a new
                         // directory under $TMPDIR, removed on exit
  std::string self;      // this binary, run as `mesh pilot`, `mesh proxy` and in commands
  std::uint32_t ingressPort = 8080;  // where the gateway serves its first port; 0: a free one
  bool ingress = true;
  std::string trustDomain = "cluster.local";
  std::chrono::milliseconds grace{5000};  // SIGTERM to SIGKILL
  std::FILE* out = stdout;
  char** environment = nullptr;  // what children inherit (minus proxy settings)
  std::vector<std::string> proxyFlags;  // for every sidecar and the gateway (tracing)
  // Each pod in its own network namespace with transparent capture (pod_network.h); root.
  bool netns = false;
};

class LocalMesh {
 public:
  LocalMesh(core::Loop& loop, UpOptions options);
  ~LocalMesh();
  LocalMesh(const LocalMesh&) = delete;
  LocalMesh& operator=(const LocalMesh&) = delete;

  // Runs until stopped; the exit status.
  int run();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace mesh::cmd::up
