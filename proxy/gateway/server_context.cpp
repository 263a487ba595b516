#include "proxy/gateway/server_context.h"

#include "core/tls/x509.h"

namespace mesh::proxy {

using core::model::ServerTls;

core::Result<std::shared_ptr<core::TlsContext>> gatewayServerContext(const ServerTls& tls) {
  if (tls.mode != ServerTls::Mode::simple && tls.mode != ServerTls::Mode::mutual) {
    return core::error(core::Code::invalid, "gateway TLS: only SIMPLE and MUTUAL terminate here");
  }
  if (tls.serverCertificate.empty() || tls.privateKey.empty()) {
    return core::error(core::Code::invalid,
                       "gateway TLS: serverCertificate and privateKey are required");
  }
  core::TlsOptions options;
  options.role = core::TlsRole::server;
  options.alpn = {"http/1.1"};
  auto chain = core::loadCertificatesFile(tls.serverCertificate);
  if (!chain.ok()) return chain.status();
  auto key = core::loadPrivateKeyFile(tls.privateKey);
  if (!key.ok()) return key.status();
  options.chain = std::move(*chain);
  options.key = std::move(*key);
  options.verifyPeer = tls.mode == ServerTls::Mode::mutual;
  // Clients of a gateway are browsers and programs outside the mesh: no SPIFFE id expected.
  options.peer.requireSpiffeId = false;
  if (options.verifyPeer) {
    if (tls.caCertificates.empty()) {
      return core::error(core::Code::invalid, "gateway TLS: MUTUAL needs caCertificates");
    }
    auto roots = core::loadCertificatesFile(tls.caCertificates);
    if (!roots.ok()) return roots.status();
    options.trustBundle = std::move(*roots);
  }
  return core::TlsContext::create(std::move(options));
}

}  // namespace mesh::proxy
