#include "proxy/identity/workload_identity.h"

#include <algorithm>

#include "core/base/log.h"
#include "core/identity/ca_client.h"
#include "core/loop/address.h"
#include "core/tls/x509.h"

namespace mesh::proxy {

using core::Code;

namespace {

std::string trimmed(std::string text) {
  auto blank = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!text.empty() && blank(text.back())) text.pop_back();
  size_t start = 0;
  while (start < text.size() && blank(text[start])) ++start;
  return text.substr(start);
}

core::Result<std::shared_ptr<core::TlsContext>> meshContext(core::TlsRole role,
                                                            const core::IssuedIdentity& issued) {
  core::TlsOptions options;
  options.role = role;
  options.chain = issued.chain;
  options.key = issued.key;
  options.trustBundle = issued.trustBundle;
  options.verifyPeer = true;  // a server demands a client certificate: mutual TLS
  options.peer.trustDomain = issued.id.trustDomain();
  options.alpn = role == core::TlsRole::server ? meshServerAlpnProtocols() : meshAlpnProtocols();
  return core::TlsContext::create(std::move(options));
}

}  // namespace

core::Result<std::unique_ptr<WorkloadIdentity>> WorkloadIdentity::create(
    core::Loop& loop, const core::Clock& clock, IdentityOptions options,
    std::shared_ptr<TransportSecurity> security) {
  std::string token = options.token;
  if (token.empty() && !options.tokenFile.empty()) {
    auto text = core::readFileBounded(options.tokenFile, 64 * 1024);
    if (!text.ok()) return core::error(Code::invalid, "--token-file: " + text.status().message());
    token = trimmed(std::move(*text));
  }
  if (token.empty())
    return core::error(Code::invalid, "--ca-address needs --token or --token-file");
  auto id = core::peekTokenIdentity(token);
  if (!id.ok()) return core::error(Code::invalid, "bootstrap token: " + id.status().message());
  if (!options.ns.empty() && options.ns != id->ns())
    return core::error(Code::invalid, "the token is for namespace \"" + id->ns() +
                                          "\", this workload is in \"" + options.ns + "\"");
  if (!options.serviceAccount.empty() && options.serviceAccount != id->serviceAccount())
    return core::error(Code::invalid, "the token is for service account \"" + id->serviceAccount() +
                                          "\", this workload runs as \"" + options.serviceAccount +
                                          "\"");
  auto ca = core::SocketAddress::parseHostPort(options.caAddress);
  if (!ca.ok()) return core::error(Code::invalid, "--ca-address: " + ca.status().message());
  if (options.caRootFile.empty()) return core::error(Code::invalid, "--ca-address needs --ca-root");
  auto roots = core::loadCertificatesFile(options.caRootFile);
  if (!roots.ok()) return core::error(Code::invalid, "--ca-root: " + roots.status().message());

  std::unique_ptr<WorkloadIdentity> identity(new WorkloadIdentity(*id, std::move(security)));
  core::CertificateManagerOptions manager{.ca = *ca,
                                          .caRoots = std::move(*roots),
                                          .id = *id,
                                          .token = std::move(token),
                                          .ttl = options.ttl,
                                          .outDir = options.outDir};
  identity->manager_ = std::make_unique<core::CertificateManager>(loop, clock, std::move(manager));
  WorkloadIdentity* raw = identity.get();
  identity->manager_->setListener(
      [raw](const core::IssuedIdentity& issued) { raw->onCertificate(issued); });
  return identity;
}

WorkloadIdentity::~WorkloadIdentity() = default;

void WorkloadIdentity::start() {
  LOG_INFO("identity", "asking the CA for a certificate for ", id_.toString());
  manager_->start();
}

void WorkloadIdentity::onCertificate(const core::IssuedIdentity& issued) {
  // Renewals reach the contexts through the manager's hot swap; only the first builds them.
  if (security_->hasWorkload()) return;
  auto server = meshContext(core::TlsRole::server, issued);
  auto client = meshContext(core::TlsRole::client, issued);
  if (!server.ok() || !client.ok()) {
    LOG_ERROR("identity", "building TLS contexts: ",
              (!server.ok() ? server.status() : client.status()).toString());
    return;
  }
  for (auto* context : {&*server, &*client}) {
    if (core::Status s = manager_->attach(*context); !s.ok())
      LOG_ERROR("identity", "attaching a TLS context: ", s.toString());
  }
  security_->setWorkload(std::move(*server), std::move(*client), issued.id);
  if (auto first = std::move(onFirst_)) first();
}

}  // namespace mesh::proxy
