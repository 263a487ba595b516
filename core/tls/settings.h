// The part of a TlsContext's configuration that BoringSSL callbacks read. Fixed at create()
// and shared (by shared_ptr) with every TlsSession, so callbacks of a session that outlives
// its context still find it. Internal to core/tls.
#pragma once

#include <openssl/ssl.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/tls/context.h"

namespace mesh::core::tls_internal {

// Client sessions for resumption, keyed by TlsSessionOptions::sessionKey. Bounded.
class SessionCache {
 public:
  static constexpr size_t kMaxEntries = 1024;
  void put(const std::string& key, bssl::UniquePtr<SSL_SESSION> session);
  // The cached session for `key` (one reference) or null; single-use (TLS 1.3) sessions are
  // removed as they are taken.
  bssl::UniquePtr<SSL_SESSION> take(const std::string& key);
  void clear();
  size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, bssl::UniquePtr<SSL_SESSION>> sessions_;
};

struct Settings {
  TlsRole role = TlsRole::client;
  bool verifyPeer = true;
  PeerPolicy peer;
  std::vector<std::string> alpn;
  bool tls13Only = false;
  bool sessionResumption = true;
  const Clock* clock = nullptr;
  std::function<Result<std::shared_ptr<TlsContext>>(const std::string&)> selectByServerName;
  mutable SessionCache cache;  // written from callbacks through a const Settings&
};

// ALPN ids in wire format (length-prefixed); error for an empty or over-long id.
Result<std::string> alpnWire(const std::vector<std::string>& protocols);

}  // namespace mesh::core::tls_internal
