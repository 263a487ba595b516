// CaServer: `mesh ca`'s signing endpoint. It listens (default port 15011), runs a TLS server
// handshake on each connection, then reads `csr` frames and answers each with what the
// Authority decides. A client that is renewing presents its current certificate in the
// handshake; the server asks for one but does not require or judge it there, so that a bad
// certificate is answered with an error frame that says why, like every other refusal.
//
// The server's own certificate (spiffe://<td>/ns/mesh-system/sa/mesh-ca) is issued by the
// Authority's current issuer, renewed at half life, and re-issued at once when the issuer
// material changes (root rotation), swapped into the live TLS context without touching open
// connections. It re-reads the issuer material every reloadInterval.
//
// Ownership: the server owns the listener, the TLS context, its timers and every connection.
// The Loop, Authority and Clock are borrowed.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "ca/authority.h"
#include "ca/root_store.h"
#include "core/base/clock.h"
#include "core/base/status.h"
#include "core/loop/address.h"
#include "core/loop/loop.h"
#include "core/loop/tcp.h"
#include "core/loop/timer.h"
#include "core/tls/context.h"

namespace mesh::ca {

inline constexpr std::uint16_t kDefaultCaPort = 15011;

struct CaServerOptions {
  core::SocketAddress listen = core::SocketAddress::anyV4(kDefaultCaPort);
  // A csr message is a few KiB; nothing legitimate comes near this.
  size_t maxFrameBytes = 256 * 1024;
  std::chrono::milliseconds handshakeTimeout{10'000};
  std::chrono::milliseconds reloadInterval{2'000};
  std::chrono::seconds servingCertTtl{std::chrono::hours(24)};
};

class CaServer {
 public:
  // Reads the issuer material afresh (loadIssuer bound to the CA's RootSource).
  using LoadIssuer = std::function<core::Result<IssuerMaterial>()>;

  CaServer(core::Loop& loop, Authority& authority, LoadIssuer load, CaServerOptions options,
           const core::Clock& clock);
  ~CaServer();
  CaServer(const CaServer&) = delete;
  CaServer& operator=(const CaServer&) = delete;

  // Loads the issuer, makes the serving certificate and starts listening.
  core::Status start();
  void stop();
  std::uint16_t port() const { return listener_.port(); }
  std::size_t connectionCount() const { return connections_.size(); }

  // Looks at the issuer material now; a change is installed and the serving certificate
  // re-issued. A load error keeps the current material (and is logged once per change).
  void reload();
  // The serving certificate's chain (leaf first), for tests.
  std::optional<core::Certificate> servingCertificate() const;

 private:
  class Connection;
  void onAccept(std::unique_ptr<core::TcpStream> tcp);
  void remove(Connection* connection);
  core::Status issueServingCertificate();
  void scheduleServingRenewal(core::Clock::TimePoint notAfter);

  core::Loop& loop_;
  Authority& authority_;
  LoadIssuer load_;
  CaServerOptions options_;
  const core::Clock& clock_;
  std::string lastLoadError_;
  std::shared_ptr<core::TlsContext> tls_;
  core::TcpListener listener_;
  core::Timer reloadTimer_;
  core::Timer renewTimer_;
  std::map<Connection*, std::unique_ptr<Connection>> connections_;
};

}  // namespace mesh::ca
