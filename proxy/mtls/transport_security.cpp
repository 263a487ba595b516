#include "proxy/mtls/transport_security.h"

#include <charconv>

#include "core/tls/x509.h"

namespace mesh::proxy {

using core::Code;

std::vector<std::string> meshAlpnProtocols() { return {std::string(kMeshAlpn), "http/1.1"}; }

std::vector<std::string> meshServerAlpnProtocols() {
  return {std::string(kMeshMuxAlpn), std::string(kMeshAlpn), "http/1.1"};
}

std::string istioSni(uint32_t port, std::string_view subset, std::string_view service) {
  return "outbound_." + std::to_string(port) + "_." + std::string(subset) + "_." +
         std::string(service);
}

std::optional<IstioSni> parseIstioSni(std::string_view sni) {
  constexpr std::string_view kPrefix = "outbound_.";
  if (sni.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  sni.remove_prefix(kPrefix.size());
  size_t portEnd = sni.find("_.");
  if (portEnd == std::string_view::npos || portEnd == 0) return std::nullopt;
  IstioSni out;
  auto [ptr, ec] = std::from_chars(sni.data(), sni.data() + portEnd, out.port);
  if (ec != std::errc() || ptr != sni.data() + portEnd || out.port == 0 || out.port > 65535)
    return std::nullopt;
  sni.remove_prefix(portEnd + 2);
  size_t subsetEnd = sni.find("_.");
  if (subsetEnd == std::string_view::npos) return std::nullopt;
  out.subset.assign(sni.substr(0, subsetEnd));
  out.service.assign(sni.substr(subsetEnd + 2));
  if (out.service.empty()) return std::nullopt;
  return out;
}

void TransportSecurity::setWorkload(std::shared_ptr<core::TlsContext> server,
                                    std::shared_ptr<core::TlsContext> client, core::SpiffeId self) {
  std::lock_guard lock(mutex_);
  server_ = std::move(server);
  client_ = std::move(client);
  self_ = std::move(self);
}

bool TransportSecurity::hasWorkload() const {
  std::lock_guard lock(mutex_);
  return server_ != nullptr;
}

std::shared_ptr<core::TlsContext> TransportSecurity::inboundServer() const {
  std::lock_guard lock(mutex_);
  return server_;
}

std::shared_ptr<core::TlsContext> TransportSecurity::clientContextForControl() const {
  std::lock_guard lock(mutex_);
  return client_;
}

std::string TransportSecurity::selfId() const {
  std::lock_guard lock(mutex_);
  return self_ ? self_->toString() : std::string();
}

UpstreamTlsTarget TransportSecurity::upstream(const core::model::Cluster& cluster,
                                              const core::model::Endpoint& endpoint) const {
  using Mode = core::model::UpstreamTls::Mode;
  const auto& tls = cluster.tls;
  UpstreamTlsTarget target;
  if (tls.mode == Mode::disable) return target;
  if (tls.mode == Mode::istio_mutual) {
    {
      std::lock_guard lock(mutex_);
      target.context = client_;
    }
    if (!target.context) {
      target.error = core::error(Code::unavailable, "cluster " + cluster.name +
                                                        " wants ISTIO_MUTUAL and this proxy "
                                                        "has no workload certificate");
      return target;
    }
    core::PeerPolicy policy;
    // The cluster's list names who may serve it; without one, the endpoint's own identity.
    std::vector<std::string> ids = tls.identities;
    if (ids.empty() && !endpoint.identity.empty()) ids.push_back(endpoint.identity);
    for (const auto& id : ids) {
      auto parsed = core::SpiffeId::parse(id);
      if (!parsed.ok()) {
        target.context.reset();
        target.error =
            core::error(Code::invalid, "cluster " + cluster.name + ": bad identity \"" + id + "\"");
        return target;
      }
      policy.allowIds.push_back(*parsed);
    }
    if (policy.allowIds.empty()) {
      std::lock_guard lock(mutex_);
      if (self_) policy.trustDomain = self_->trustDomain();
    }
    target.session.serverName =
        tls.sni.empty() ? istioSni(cluster.port, cluster.subset, cluster.service) : tls.sni;
    target.session.sessionKey =
        target.session.serverName + "@" + endpoint.address + ":" +
        std::to_string(endpoint.sidecarPort ? endpoint.sidecarPort : endpoint.port);
    target.session.peer = std::move(policy);
    if (endpoint.sidecarPort > 0 && endpoint.sidecarPort <= 65535)
      target.port = static_cast<uint16_t>(endpoint.sidecarPort);
    return target;
  }
  auto context = fileContext(tls);
  if (!context.ok()) {
    target.error = core::error(context.status().code(),
                               "cluster " + cluster.name + ": " + context.status().message());
    return target;
  }
  target.context = std::move(*context);
  target.session.serverName = tls.sni.empty() ? cluster.service : tls.sni;
  return target;
}

core::Result<std::shared_ptr<core::TlsContext>> TransportSecurity::fileContext(
    const core::model::UpstreamTls& tls) const {
  bool mutual = tls.mode == core::model::UpstreamTls::Mode::mutual;
  std::string key = tls.caCertificates + "\n" + (mutual ? tls.clientCertificate : "") + "\n" +
                    (mutual ? tls.privateKey : "");
  std::lock_guard lock(mutex_);
  if (auto it = files_.find(key); it != files_.end()) return it->second;
  core::TlsOptions options;
  options.role = core::TlsRole::client;
  options.alpn = {"http/1.1"};
  // Not a mesh peer: its certificate names a host, not a SPIFFE id.
  options.peer.requireSpiffeId = false;
  options.verifyPeer = !tls.caCertificates.empty();
  if (options.verifyPeer) {
    auto roots = core::loadCertificatesFile(tls.caCertificates);
    if (!roots.ok()) return roots.status();
    options.trustBundle = std::move(*roots);
  }
  if (mutual) {
    auto chain = core::loadCertificatesFile(tls.clientCertificate);
    if (!chain.ok()) return chain.status();
    auto pkey = core::loadPrivateKeyFile(tls.privateKey);
    if (!pkey.ok()) return pkey.status();
    options.chain = std::move(*chain);
    options.key = std::move(*pkey);
  }
  auto context = core::TlsContext::create(std::move(options));
  if (!context.ok()) return context.status();
  files_[key] = *context;
  return *context;
}

}  // namespace mesh::proxy
