// ProxyServer: `mesh proxy` as a whole. It loads the snapshot, starts the worker threads
// with their listeners, serves the admin and readiness ports on the main thread, reloads
// the snapshot file on SIGHUP (a bad file keeps the running config, is logged and counted),
// and drains on SIGTERM/SIGINT or POST /quitquitquit: listeners close, in-flight requests
// finish within the grace period, then the process exits 0.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/base/status.h"
#include "core/loop/loop.h"
#include "core/metrics/registry.h"
#include "proxy/identity/workload_identity.h"
#include "proxy/server/local_ports.h"
#include "proxy/server/proxy_stats.h"
#include "proxy/server/runtime_config.h"
#include "proxy/server/worker_context.h"
#include "proxy/xds/xds_client.h"

namespace mesh::proxy {

struct ServerOptions {
  std::string configPath;  // empty: the config comes from pilot (xds.pilotAddress)
  IdentityOptions identity;  // identity.caAddress set: a workload certificate from the CA
  XdsOptions xds;            // xds.pilotAddress set: config from pilot
  LocalPorts localPorts;     // applied to pilot's snapshots (several proxies on one host)
  std::string adminAddress = "127.0.0.1:15000";
  std::string readinessAddress = "0.0.0.0:15021";
  // Prometheus scrape port (Istio's 15090, /stats/prometheus). When the default address
  // cannot be bound the proxy runs on without it (admin /stats/prometheus still answers); an
  // address the user chose must bind.
  std::string statsAddress = "0.0.0.0:15090";
  bool statsAddressChosen = false;
  std::string zipkinAddress;  // ip:port of a Zipkin collector; empty: no span export
  unsigned concurrency = 2;
  unsigned drainSeconds = 5;
  ProxyOptions proxy;
  authn::JwksFetcherOptions jwks;  // refresh interval and timeout of jwksUri fetches
  // Where the "listening ..." line goes (tests read it to find the ports).
  std::FILE* announce = stdout;
};

// Reads and checks a snapshot file (JSON).
core::Result<core::model::Snapshot> loadSnapshotFile(const std::string& path);

class ProxyServer {
 public:
  explicit ProxyServer(ServerOptions options);
  ~ProxyServer();
  // Runs until drained and stopped; the process exit code.
  int run();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace mesh::proxy
