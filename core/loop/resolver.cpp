#include "core/loop/resolver.h"

#include <ares.h>
#include <arpa/inet.h>
#include <poll.h>

#include <algorithm>
#include <chrono>

namespace mesh::core {

namespace {

struct Lookup {
  bool done = false;
  int status = ARES_SUCCESS;
  std::vector<std::string> v4, v6;
};

void onAddrInfo(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) {
  auto* lookup = static_cast<Lookup*>(arg);
  lookup->done = true;
  lookup->status = status;
  if (!result) return;
  for (auto* node = result->nodes; node; node = node->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    if (node->ai_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(node->ai_addr)->sin_addr, text,
                sizeof text);
      lookup->v4.emplace_back(text);
    } else if (node->ai_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(node->ai_addr)->sin6_addr, text,
                sizeof text);
      lookup->v6.emplace_back(text);
    }
  }
  ares_freeaddrinfo(result);
}

// Runs the channel until the lookup finishes or the deadline passes.
void drive(ares_channel channel, Lookup& lookup, int timeoutMs) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  while (!lookup.done && std::chrono::steady_clock::now() < deadline) {
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    int mask = ares_getsock(channel, socks, ARES_GETSOCK_MAXNUM);
    pollfd fds[ARES_GETSOCK_MAXNUM];
    int count = 0;
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
      short events = (ARES_GETSOCK_READABLE(mask, i) ? POLLIN : 0) |
                     (ARES_GETSOCK_WRITABLE(mask, i) ? POLLOUT : 0);
      if (events) fds[count++] = {socks[i], events, 0};
    }
    if (count == 0) break;
    poll(fds, count, 100);
    for (int i = 0; i < count; ++i) {
      ares_socket_t r =
          (fds[i].revents & (POLLIN | POLLERR | POLLHUP)) ? fds[i].fd : ARES_SOCKET_BAD;
      ares_socket_t w = (fds[i].revents & POLLOUT) ? fds[i].fd : ARES_SOCKET_BAD;
      ares_process_fd(channel, r, w);
    }
    if (count == 0) ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  }
}

}  // namespace

Result<std::vector<std::string>> resolveBlocking(const std::string& name, int timeoutMs) {
  in6_addr scratch{};
  if (inet_pton(AF_INET, name.c_str(), &scratch) == 1 ||
      inet_pton(AF_INET6, name.c_str(), &scratch) == 1) {
    return std::vector<std::string>{name};
  }
  static const int initStatus = ares_library_init(ARES_LIB_INIT_ALL);
  if (initStatus != ARES_SUCCESS) return error(Code::internal, ares_strerror(initStatus));

  ares_channel channel = nullptr;
  if (int rc = ares_init(&channel); rc != ARES_SUCCESS) {
    return error(Code::internal, std::string("resolver init: ") + ares_strerror(rc));
  }
  Lookup lookup;
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  ares_getaddrinfo(channel, name.c_str(), nullptr, &hints, onAddrInfo, &lookup);
  drive(channel, lookup, timeoutMs);
  ares_destroy(channel);  // fires the callback with ARES_EDESTRUCTION if still pending

  if (!lookup.done || lookup.status == ARES_ETIMEOUT || lookup.status == ARES_EDESTRUCTION) {
    return error(Code::timeout, "resolving " + name + ": timed out");
  }
  if (lookup.status != ARES_SUCCESS) {
    return error(Code::not_found, "resolving " + name + ": " + ares_strerror(lookup.status));
  }
  std::vector<std::string> all = std::move(lookup.v4);
  all.insert(all.end(), lookup.v6.begin(), lookup.v6.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

}  // namespace mesh::core
