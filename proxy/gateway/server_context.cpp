#include "proxy/gateway/server_context.h"

#include <utility>
#include <vector>

#include "core/http/chars.h"
#include "core/tls/x509.h"

namespace mesh::proxy {

using core::model::ServerTls;

namespace {

// The certificate and key as PEM text (from a credentialName's Secret) or else as files.
core::Status withCertificate(core::TlsOptions& options, const std::string& certificateFile,
                             const std::string& keyFile, const std::string& certificatePem,
                             const std::string& keyPem) {
  if (!certificatePem.empty() || !keyPem.empty()) {
    auto chain = core::parseCertificatesPem(certificatePem);
    if (!chain.ok()) {
      return core::error(core::Code::invalid,
                         "gateway TLS: the credential's certificate: " + chain.status().message());
    }
    // BoringSSL's message says what is wrong, never what the key is.
    auto pkey = core::PrivateKey::fromPem(keyPem);
    if (!pkey.ok()) {
      return core::error(core::Code::invalid,
                         "gateway TLS: the credential's key: " + pkey.status().message());
    }
    options.chain = std::move(*chain);
    options.key = std::move(*pkey);
    return {};
  }
  if (certificateFile.empty() || keyFile.empty()) {
    return core::error(core::Code::invalid,
                       "gateway TLS: serverCertificate and privateKey are required");
  }
  auto chain = core::loadCertificatesFile(certificateFile);
  if (!chain.ok()) return chain.status();
  auto pkey = core::loadPrivateKeyFile(keyFile);
  if (!pkey.ok()) return pkey.status();
  options.chain = std::move(*chain);
  options.key = std::move(*pkey);
  return {};
}

std::string lower(std::string s) {
  for (char& c : s) c = core::http::asciiLower(c);
  return s;
}

// "*" matches any name, "*.example.com" any name under example.com, else the name itself.
bool sniMatches(const std::string& pattern, const std::string& name) {
  if (pattern == "*" || pattern == name) return true;
  return pattern.starts_with("*.") && name.size() > pattern.size() - 1 &&
         name.ends_with(std::string_view(pattern).substr(1));
}

using NamedContexts =
    std::vector<std::pair<std::vector<std::string>, std::shared_ptr<core::TlsContext>>>;

core::Result<NamedContexts> sniContexts(const core::model::Listener& listener) {
  NamedContexts out;
  for (const auto& sni : listener.sniCertificates) {
    core::TlsOptions options;
    options.role = core::TlsRole::server;
    options.verifyPeer = false;  // the listener's context decides client verification
    options.peer.requireSpiffeId = false;
    core::Status certificate = withCertificate(options, sni.serverCertificate, sni.privateKey,
                                               sni.serverCertificatePem, sni.privateKeyPem);
    if (!certificate.ok()) return certificate;
    auto context = core::TlsContext::create(std::move(options));
    if (!context.ok()) return context.status();
    std::vector<std::string> hosts;
    for (const auto& h : sni.hosts) hosts.push_back(lower(h));
    out.emplace_back(std::move(hosts), std::move(*context));
  }
  return out;
}

}  // namespace

core::Result<std::shared_ptr<core::TlsContext>> gatewayServerContext(
    const core::model::Listener& listener) {
  const ServerTls& tls = listener.tls;
  if (tls.mode != ServerTls::Mode::simple && tls.mode != ServerTls::Mode::mutual) {
    return core::error(core::Code::invalid, "gateway TLS: only SIMPLE and MUTUAL terminate here");
  }
  core::TlsOptions options;
  options.role = core::TlsRole::server;
  options.alpn = {"http/1.1"};
  if (core::Status s = withCertificate(options, tls.serverCertificate, tls.privateKey,
                                       tls.serverCertificatePem, tls.privateKeyPem);
      !s.ok()) {
    return s;
  }
  options.verifyPeer = tls.mode == ServerTls::Mode::mutual;
  // Clients of a gateway are browsers and programs outside the mesh: no SPIFFE id expected.
  options.peer.requireSpiffeId = false;
  if (options.verifyPeer) {
    if (tls.caCertificates.empty() && tls.caCertificatesPem.empty()) {
      return core::error(core::Code::invalid, "gateway TLS: MUTUAL needs caCertificates");
    }
    auto roots = tls.caCertificatesPem.empty() ? core::loadCertificatesFile(tls.caCertificates)
                                               : core::parseCertificatesPem(tls.caCertificatesPem);
    if (!roots.ok()) return roots.status();
    options.trustBundle = std::move(*roots);
  }
  auto named = sniContexts(listener);
  if (!named.ok()) return named.status();
  if (!named->empty()) {
    options.selectByServerName = [named = std::move(*named)](const std::string& serverName)
        -> core::Result<std::shared_ptr<core::TlsContext>> {
      std::string name = lower(serverName);
      for (const auto& [hosts, context] : named) {
        for (const auto& h : hosts) {
          if (sniMatches(h, name)) return context;
        }
      }
      return std::shared_ptr<core::TlsContext>();  // the listener's own certificate
    };
  }
  return core::TlsContext::create(std::move(options));
}

}  // namespace mesh::proxy
