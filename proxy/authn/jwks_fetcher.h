// JwksFetcher: the JWKS documents named by RequestAuthentication's jwksUri, fetched over
// HTTP or HTTPS by one thread of its own, so a slow or dead key server never stalls a
// worker. Each URI is fetched when first asked for, then again every refresh interval
// (Istio's 20 minutes by default); a failed fetch is retried sooner, backing off, and keeps
// the last good key set. A URI nobody uses any more (every JwksSource for it gone with the
// configs that held it) is dropped.
//
// Ownership: the fetcher holds its sources weakly; compiled RequestAuthentication rules
// (jwt_rule.h) hold them strongly. The fetcher's thread starts with the first subscription
// and is joined by its destructor.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/base/status.h"
#include "core/metrics/registry.h"
#include "proxy/authn/jwks.h"

namespace mesh::proxy::authn {

// Where the keys of one jwksUri are; read by the workers on every request with a token.
class JwksSource {
 public:
  explicit JwksSource(std::string uri) : uri_(std::move(uri)) {}
  const std::string& uri() const { return uri_; }
  // Null until a fetch succeeded.
  std::shared_ptr<const Jwks> keys() const {
    std::lock_guard lock(mutex_);
    return keys_;
  }
  void setKeys(std::shared_ptr<const Jwks> keys) {
    std::lock_guard lock(mutex_);
    keys_ = std::move(keys);
  }

 private:
  const std::string uri_;
  mutable std::mutex mutex_;
  std::shared_ptr<const Jwks> keys_;
};

struct JwksUrl {
  bool tls = false;
  std::string host;
  uint16_t port = 80;
  std::string path = "/";
  // http:// or https:// URLs only; nullopt for anything else.
  static std::optional<JwksUrl> parse(std::string_view text);
};

struct JwksFetcherOptions {
  std::chrono::milliseconds refresh{20 * 60 * 1000};  // Istio's default
  std::chrono::milliseconds timeout{5000};            // one fetch, connect to last byte
};

class JwksFetcher {
 public:
  JwksFetcher(core::metrics::Registry& registry, JwksFetcherOptions options);
  ~JwksFetcher();
  JwksFetcher(const JwksFetcher&) = delete;
  JwksFetcher& operator=(const JwksFetcher&) = delete;

  // The source for `uri`, shared with every other rule naming it; a new one is fetched at
  // once.
  std::shared_ptr<JwksSource> subscribe(const std::string& uri);

 private:
  struct Entry {
    std::weak_ptr<JwksSource> source;
    std::chrono::steady_clock::time_point next;
    std::chrono::milliseconds backoff{0};
  };
  void run();
  void fetchOne(const std::string& uri, const std::shared_ptr<JwksSource>& source, Entry& entry,
                std::unique_lock<std::mutex>& lock);

  JwksFetcherOptions options_;
  core::metrics::Counter& fetchOk_;
  core::metrics::Counter& fetchError_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, Entry> entries_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;  // started by the first subscribe(), once everything above exists
};

// One GET of `url`, the body of a 200 answer; gives up after `timeout` or when `stop` is
// set. HTTPS checks the server's certificate and name against the roots in $SSL_CERT_FILE,
// else the system's.
core::Result<std::string> httpGet(const JwksUrl& url, std::chrono::milliseconds timeout,
                                  const std::atomic<bool>& stop);

}  // namespace mesh::proxy::authn
