// Host name resolution without glibc's NSS: a static binary cannot load NSS modules, so
// getaddrinfo() fails in a container or chroot that lacks them. c-ares reads /etc/hosts and
// /etc/resolv.conf itself and speaks DNS directly.
//
// resolveBlocking() is for start-up and the CLI; Resolver runs lookups on a Loop (c-ares's
// sockets watched with uv_poll, its retransmissions driven by a Timer).
#pragma once

#include <ares.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/base/status.h"
#include "core/loop/handle.h"
#include "core/loop/loop.h"
#include "core/loop/timer.h"

namespace mesh::core {

// Resolves `name` to numeric addresses (IPv4 first, then IPv6), blocking the caller.
// For start-up and CLI use; numeric input is returned unchanged.
Result<std::vector<std::string>> resolveBlocking(const std::string& name, int timeoutMs = 5000);

struct ResolverOptions {
  // Bounds one lookup (split over two tries per server).
  std::chrono::milliseconds timeout = std::chrono::seconds(5);
  // DNS servers as "IP:port,[IPv6]:port"; empty: those of /etc/resolv.conf.
  std::string servers;
};

class Resolver {
 public:
  // Addresses as resolveBlocking() gives them, or not_found / timeout / unavailable.
  using Callback = std::function<void(Result<std::vector<std::string>>)>;

  // A bad option makes every resolve() fail with the reason. Without servers, the channel
  // (and /etc/resolv.conf) waits for the first name that is not numeric.
  explicit Resolver(Loop& loop, const ResolverOptions& options = {});
  // Pending lookups are abandoned; their callbacks do not run.
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // Starts a lookup. The callback always runs later from the loop, never inside resolve(),
  // even for numeric names and /etc/hosts hits. It may destroy the Resolver.
  Status resolve(const std::string& name, Callback callback);
  // Lookups started and not yet delivered.
  std::size_t pending() const { return pending_; }

 private:
  struct Lookup;
  struct SocketWatch;
  struct Ready {
    Callback callback;
    Result<std::vector<std::string>> result;
  };
  static void onAddrInfo(void* arg, int status, int timeouts, ares_addrinfo* result);
  static void onSocketState(void* data, ares_socket_t fd, int readable, int writable);
  static void onPoll(uv_poll_t* poll, int status, int events);
  void complete(Callback callback, Result<std::vector<std::string>> result);
  void deliver();
  void rearmTimeout();
  // The c-ares channel, made by the constructor when servers are given, else on first need.
  Status openChannel();

  Loop& loop_;
  ResolverOptions options_;
  Status initStatus_;
  ares_channel channel_ = nullptr;
  bool destroying_ = false;
  bool* destroyed_ = nullptr;
  std::size_t pending_ = 0;
  std::map<ares_socket_t, std::unique_ptr<SocketWatch>> sockets_;
  std::vector<Ready> ready_;
  Timer timeout_;  // c-ares's next retransmission or timeout
  Timer deliver_;  // runs ready_ callbacks on the next turn
};

}  // namespace mesh::core
