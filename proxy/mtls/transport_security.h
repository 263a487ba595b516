// TransportSecurity: how the proxy's connections are secured. It holds the workload's mesh
// TLS contexts (server for the inbound listener, client for ISTIO_MUTUAL upstreams; both
// hot-swapped by the CertificateManager on renewal, proxy/identity) and the contexts built
// from files for DestinationRule SIMPLE/MUTUAL, and answers, for one upstream endpoint,
// which context, SNI, peer policy and port a new connection uses.
//
// Shared by every worker thread (shared_ptr in ProxyOptions); the contexts are set once by
// the main thread when the first certificate arrives, read by workers per new connection
// under a mutex (per connection, never per request). The contexts themselves are
// thread-safe (core/tls/context.h).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "core/model/cluster.h"
#include "core/tls/context.h"
#include "core/tls/spiffe.h"

namespace mesh::proxy {

// ALPN ids a sidecar offers and accepts on mesh mTLS: the first marks traffic between
// sidecars, the second keeps a plain HTTP/1.1 TLS peer working.
inline constexpr std::string_view kMeshAlpn = "mesh/http1.1";
std::vector<std::string> meshAlpnProtocols();
// Many HTTP/1.1 connections multiplexed on one (proxy/mux). Offered only by the HTTP
// connection pools, which know how to use it; the inbound listener prefers it.
inline constexpr std::string_view kMeshMuxAlpn = "mesh/mux1";
std::vector<std::string> meshServerAlpnProtocols();

// Istio's SNI for mesh traffic: "outbound_.<port>_.<subset>_.<service FQDN>".
std::string istioSni(uint32_t port, std::string_view subset, std::string_view service);
struct IstioSni {
  uint32_t port = 0;
  std::string subset;
  std::string service;
};
std::optional<IstioSni> parseIstioSni(std::string_view sni);

// How a new upstream connection is made.
struct UpstreamTlsTarget {
  std::shared_ptr<core::TlsContext> context{};  // null: plain text
  core::TlsSessionOptions session{};
  uint16_t port = 0;     // non-zero: connect to this port (the endpoint's sidecar) instead
  core::Status error{};  // TLS is wanted but cannot be done (no certificate, bad files)
};

class TransportSecurity {
 public:
  // Installs the workload's contexts (the main thread, once the first certificate is in).
  void setWorkload(std::shared_ptr<core::TlsContext> server,
                   std::shared_ptr<core::TlsContext> client, core::SpiffeId self);
  bool hasWorkload() const;
  // Null until setWorkload().
  std::shared_ptr<core::TlsContext> inboundServer() const;
  // The workload's client context, for the control channel to pilot; null before.
  std::shared_ptr<core::TlsContext> clientContextForControl() const;
  // "spiffe://..." of this workload, "" before setWorkload().
  std::string selfId() const;

  UpstreamTlsTarget upstream(const core::model::Cluster& cluster,
                             const core::model::Endpoint& endpoint) const;

 private:
  core::Result<std::shared_ptr<core::TlsContext>> fileContext(
      const core::model::UpstreamTls& tls) const;

  mutable std::mutex mutex_;
  std::shared_ptr<core::TlsContext> server_;  // guarded by mutex_
  std::shared_ptr<core::TlsContext> client_;  // guarded by mutex_
  std::optional<core::SpiffeId> self_;        // guarded by mutex_
  // SIMPLE/MUTUAL contexts by their file names, built once. Guarded by mutex_.
  mutable std::map<std::string, std::shared_ptr<core::TlsContext>> files_;
};

}  // namespace mesh::proxy
