// LocalPorts: where this proxy really binds and finds its app when several sidecars share one
// host (`mesh up`), whatever ports pilot's snapshots name. Pilot compiles the same Istio
// ports for every proxy (the capture listener on 15001, gateway servers on their Gateway port,
// the app on its containerPort); on one machine those collide, so the proxy moves them:
//   --listener-port 15001=127.0.0.1:41000   a listener pilot puts on 15001 binds there
//   --app-port 9080=41234                   the app of workload port 9080 listens on 41234
//   --inbound-address 127.0.0.1             the inbound listener binds there, not 0.0.0.0
// The inbound listener's port is not touched: --sidecar-port already tells pilot where it goes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "core/base/status.h"
#include "core/model/snapshot.h"

namespace mesh::proxy {

struct ListenAt {
  std::string address;  // empty: keep the snapshot's
  std::uint32_t port = 0;
};

struct LocalPorts {
  std::map<std::uint32_t, ListenAt> listeners;  // by the port in the snapshot
  std::map<std::uint32_t, std::uint32_t> app;   // workload port -> the app's local port
  std::string inboundAddress;                   // empty: keep the snapshot's
  bool empty() const { return listeners.empty() && app.empty() && inboundAddress.empty(); }
};

// "15001=41000" or "15001=127.0.0.1:41000" (IPv6 in brackets), into `out.listeners`.
core::Status parseListenerPort(std::string_view text, LocalPorts& out);
// "9080=41234", into `out.app`.
core::Status parseAppPort(std::string_view text, LocalPorts& out);

// An IP address for the inbound listener, into `out.inboundAddress`.
core::Status parseInboundAddress(std::string_view text, LocalPorts& out);

// Rewrites the outbound and gateway listeners' and the inbound clusters' ports, and the
// inbound listener's address, in place.
void localize(core::model::Snapshot& snapshot, const LocalPorts& ports);

}  // namespace mesh::proxy
