// WorkloadIdentity: the sidecar's certificate, from start-up for as long as it runs. With a
// CA address it works out the identity (the bootstrap token names it; the namespace and
// service account flags, when given, must agree), has core/identity's CertificateManager get
// the first certificate and renew it at half its lifetime, and on the first certificate
// builds the mesh server and client TLS contexts and hands them to TransportSecurity. The
// manager keeps those contexts current by hot swap, so renewal drops no connection.
//
// Lives on the main thread's loop. Owns the manager; the TransportSecurity is shared with
// the workers.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/base/clock.h"
#include "core/base/status.h"
#include "core/identity/cert_manager.h"
#include "core/loop/loop.h"
#include "proxy/mtls/transport_security.h"

namespace mesh::proxy {

struct IdentityOptions {
  std::string caAddress;        // host:port of `mesh ca`; empty: no workload certificate
  std::string caRootFile;       // PEM roots that verify the CA's serving certificate
  std::string token;            // the bootstrap token, or
  std::string tokenFile;        // a file holding it (read at start-up)
  std::string ns;               // expected namespace (flag or POD_NAMESPACE); may be empty
  std::string serviceAccount;   // expected service account (flag or SERVICE_ACCOUNT)
  std::string outDir;           // when set, key.pem / cert-chain.pem / root-cert.pem go here
  std::chrono::seconds ttl{0};  // 0: the CA's default
};

class WorkloadIdentity {
 public:
  // Checks the options and the token; nothing is sent until start().
  static core::Result<std::unique_ptr<WorkloadIdentity>> create(
      core::Loop& loop, const core::Clock& clock, IdentityOptions options,
      std::shared_ptr<TransportSecurity> security);
  ~WorkloadIdentity();
  WorkloadIdentity(const WorkloadIdentity&) = delete;
  WorkloadIdentity& operator=(const WorkloadIdentity&) = delete;

  void start();
  // Runs once, when the first certificate is installed.
  void onFirstCertificate(std::function<void()> callback) { onFirst_ = std::move(callback); }
  bool hasCertificate() const { return security_->hasWorkload(); }
  const core::SpiffeId& id() const { return id_; }
  const core::CertificateManager& manager() const { return *manager_; }

 private:
  WorkloadIdentity(core::SpiffeId id, std::shared_ptr<TransportSecurity> security)
      : id_(std::move(id)), security_(std::move(security)) {}
  void onCertificate(const core::IssuedIdentity& issued);

  core::SpiffeId id_;
  std::shared_ptr<TransportSecurity> security_;
  std::function<void()> onFirst_;
  std::unique_ptr<core::CertificateManager> manager_;
};

}  // namespace mesh::proxy
