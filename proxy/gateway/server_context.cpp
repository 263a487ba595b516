#include "proxy/gateway/server_context.h"

#include <utility>
#include <vector>

#include "core/http/chars.h"
#include "core/tls/x509.h"

namespace mesh::proxy {

using core::model::ServerTls;

namespace {

core::Status withFiles(core::TlsOptions& options, const std::string& certificate,
                       const std::string& key) {
  if (certificate.empty() || key.empty()) {
    return core::error(core::Code::invalid,
                       "gateway TLS: serverCertificate and privateKey are required");
  }
  auto chain = core::loadCertificatesFile(certificate);
  if (!chain.ok()) return chain.status();
  auto pkey = core::loadPrivateKeyFile(key);
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
    core::Status files = withFiles(options, sni.serverCertificate, sni.privateKey);
    if (!files.ok()) return files;
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
  if (core::Status s = withFiles(options, tls.serverCertificate, tls.privateKey); !s.ok()) return s;
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
