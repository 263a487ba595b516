// SocketAddress: an IPv4 or IPv6 address and port, as passed to bind/connect and reported by
// getsockname/getpeername. A value type; numeric only (names go through the resolver first).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/status.h"

namespace mesh::core {

class SocketAddress {
 public:
  // An empty address (family AF_UNSPEC).
  SocketAddress() = default;
  // "127.0.0.1" or "::1" (no brackets) and a port; anything else is Code::invalid.
  static Result<SocketAddress> parse(std::string_view ip, std::uint16_t port);
  // "127.0.0.1:80" or "[::1]:80".
  static Result<SocketAddress> parseHostPort(std::string_view text);
  // Copies a sockaddr_in or sockaddr_in6; other families give an empty address.
  static SocketAddress fromSockaddr(const sockaddr* address);
  static SocketAddress loopbackV4(std::uint16_t port = 0);
  static SocketAddress loopbackV6(std::uint16_t port = 0);
  static SocketAddress anyV4(std::uint16_t port = 0);
  static SocketAddress anyV6(std::uint16_t port = 0);

  int family() const { return storage_.ss_family; }
  bool empty() const { return family() == AF_UNSPEC; }
  bool isV6() const { return family() == AF_INET6; }
  std::uint16_t port() const;
  SocketAddress withPort(std::uint16_t port) const;
  // "127.0.0.1" / "::1".
  std::string ip() const;
  // "127.0.0.1:80" / "[::1]:80"; "" when empty.
  std::string toString() const;

  const sockaddr* raw() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t rawSize() const;

  friend bool operator==(const SocketAddress& a, const SocketAddress& b) {
    return a.family() == b.family() && a.port() == b.port() && a.ip() == b.ip();
  }

 private:
  sockaddr_storage storage_{};
};

}  // namespace mesh::core
