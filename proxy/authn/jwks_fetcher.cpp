#include "proxy/authn/jwks_fetcher.h"

#include <algorithm>

#include "core/base/log.h"

namespace mesh::proxy::authn {

using Clock = std::chrono::steady_clock;

namespace {
// A failed fetch is retried after 1 s, then 2, 4, ... up to the refresh interval.
constexpr std::chrono::milliseconds kFirstRetry{1000};
}  // namespace

std::optional<JwksUrl> JwksUrl::parse(std::string_view text) {
  JwksUrl url;
  if (text.starts_with("https://")) {
    url.tls = true;
    url.port = 443;
    text.remove_prefix(8);
  } else if (text.starts_with("http://")) {
    text.remove_prefix(7);
  } else {
    return std::nullopt;
  }
  size_t slash = text.find_first_of("/?#");
  std::string_view authority = text.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view rest = text.substr(slash);
    rest = rest.substr(0, rest.find('#'));
    url.path = rest.starts_with('/') ? "" : "/";
    url.path.append(rest);
  }
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  size_t colon = authority.rfind(':');
  if (authority.front() == '[') {  // [v6]:port
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    url.host = std::string(authority.substr(1, close - 1));
    colon = authority.size() > close + 1 && authority[close + 1] == ':' ? close + 1
                                                                         : std::string_view::npos;
  } else {
    url.host = std::string(authority.substr(0, colon));
  }
  if (colon != std::string_view::npos) {
    std::string_view port = authority.substr(colon + 1);
    unsigned value = 0;
    if (port.empty() || port.size() > 5) return std::nullopt;
    for (char c : port) {
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return std::nullopt;
    url.port = static_cast<uint16_t>(value);
  }
  if (url.host.empty()) return std::nullopt;
  return url;
}

JwksFetcher::JwksFetcher(core::metrics::Registry& registry, JwksFetcherOptions options)
    : options_(options),
      fetchOk_(registry
                   .counter("mesh_proxy_jwks_fetch_total",
                            "JWKS fetches for RequestAuthentication's jwksUri", {"result"})
                   .series({"ok"})),
      fetchError_(registry
                      .counter("mesh_proxy_jwks_fetch_total",
                               "JWKS fetches for RequestAuthentication's jwksUri", {"result"})
                      .series({"error"})) {}

JwksFetcher::~JwksFetcher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<JwksSource> JwksFetcher::subscribe(const std::string& uri) {
  std::lock_guard lock(mutex_);
  Entry& entry = entries_[uri];
  if (auto existing = entry.source.lock()) return existing;
  auto source = std::make_shared<JwksSource>(uri);
  entry.source = source;
  entry.next = Clock::now();
  entry.backoff = std::chrono::milliseconds(0);
  // The thread starts with the first jwksUri: most proxies have none, and a thread costs its
  // stack and descriptor in each of them. It waits for the lock held here.
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  wake_.notify_all();
  return source;
}

void JwksFetcher::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto now = Clock::now();
    auto wakeAt = now + options_.refresh;
    bool fetched = false;
    for (auto it = entries_.begin(); it != entries_.end() && !stopping_;) {
      auto source = it->second.source.lock();
      if (!source) {
        it = entries_.erase(it);
        continue;
      }
      if (it->second.next <= now) {
        std::string uri = it->first;
        fetchOne(uri, source, it->second, lock);
        fetched = true;
        break;  // the map may have changed while unlocked: look again from the start
      }
      wakeAt = std::min(wakeAt, it->second.next);
      ++it;
    }
    if (!fetched && !stopping_) wake_.wait_until(lock, wakeAt);
  }
}

void JwksFetcher::fetchOne(const std::string& uri, const std::shared_ptr<JwksSource>& source,
                           Entry& entry, std::unique_lock<std::mutex>& lock) {
  // The entry cannot go while unlocked: only this thread erases entries, and subscribe()
  // only adds or refreshes them (std::map keeps references stable).
  entry.next = Clock::now() + options_.refresh;
  lock.unlock();
  core::Status failed;
  auto url = JwksUrl::parse(uri);
  if (!url) {
    failed = core::error(core::Code::invalid, "not an http(s) URL");
  } else if (auto body = httpGet(*url, options_.timeout, stopping_); !body.ok()) {
    failed = body.status();
  } else if (size_t skipped = 0; auto keys = Jwks::parse(*body, false, &skipped)) {
    if (skipped) LOG_WARN("jwks", uri, ": ", skipped, " malformed key(s) skipped");
    source->setKeys(std::move(*keys));
  } else {
    failed = keys.status();
  }
  if (failed.ok()) {
    fetchOk_.inc();
    LOG_DEBUG("jwks", "fetched ", uri);
  } else if (!stopping_) {
    fetchError_.inc();
    LOG_WARN("jwks", "fetching ", uri, " failed (", source->keys() ? "keeping the last keys"
                                                                      : "no keys yet",
             "): ", failed.message());
  }
  lock.lock();
  if (failed.ok()) {
    entry.backoff = std::chrono::milliseconds(0);
  } else {
    entry.backoff = std::min(options_.refresh, entry.backoff.count() ? entry.backoff * 2 : kFirstRetry);
    entry.next = Clock::now() + entry.backoff;
  }
}

}  // namespace mesh::proxy::authn
