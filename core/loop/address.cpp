#include "core/loop/address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace mesh::core {

Result<SocketAddress> SocketAddress::parse(std::string_view ip, std::uint16_t port) {
  std::string text(ip);
  SocketAddress out;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage_);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage_);
  if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    return out;
  }
  out.storage_ = {};
  if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    return out;
  }
  return error(Code::invalid, "not a numeric IP address: '" + text + "'");
}

Result<SocketAddress> SocketAddress::parseHostPort(std::string_view text) {
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return error(Code::invalid, "bad address '" + std::string(text) + "'");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) {
      return error(Code::invalid, "bad address '" + std::string(text) + "', want IP:PORT");
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value > 65535 || port.empty()) {
    return error(Code::invalid, "bad port in '" + std::string(text) + "'");
  }
  return parse(host, static_cast<std::uint16_t>(value));
}

SocketAddress SocketAddress::fromSockaddr(const sockaddr* address) {
  SocketAddress out;
  if (address && address->sa_family == AF_INET) {
    std::memcpy(&out.storage_, address, sizeof(sockaddr_in));
  } else if (address && address->sa_family == AF_INET6) {
    std::memcpy(&out.storage_, address, sizeof(sockaddr_in6));
  }
  return out;
}

SocketAddress SocketAddress::loopbackV4(std::uint16_t port) { return *parse("127.0.0.1", port); }
SocketAddress SocketAddress::loopbackV6(std::uint16_t port) { return *parse("::1", port); }
SocketAddress SocketAddress::anyV4(std::uint16_t port) { return *parse("0.0.0.0", port); }
SocketAddress SocketAddress::anyV6(std::uint16_t port) { return *parse("::", port); }

std::uint16_t SocketAddress::port() const {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  if (family() == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  }
  return 0;
}

SocketAddress SocketAddress::withPort(std::uint16_t port) const {
  SocketAddress out = *this;
  if (family() == AF_INET) reinterpret_cast<sockaddr_in*>(&out.storage_)->sin_port = htons(port);
  if (family() == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&out.storage_)->sin6_port = htons(port);
  }
  return out;
}

std::string SocketAddress::ip() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    // By hand: the proxy formats the client's address on every request (x-forwarded-for),
    // and glibc's inet_ntop goes through sprintf.
    const auto* b = reinterpret_cast<const uint8_t*>(
        &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr);
    char* p = text;
    for (int i = 0; i < 4; ++i) {
      if (i) *p++ = '.';
      unsigned v = b[i];
      if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
      if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
      *p++ = static_cast<char>('0' + v % 10);
    }
    return std::string(text, static_cast<size_t>(p - text));
  } else if (family() == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, text,
              sizeof text);
  }
  return text;
}

std::string SocketAddress::toString() const {
  if (empty()) return "";
  std::string out;
  if (isV6()) out += '[';
  out += ip();
  if (isV6()) out += ']';
  out += ':';
  out += std::to_string(port());
  return out;
}

socklen_t SocketAddress::rawSize() const {
  if (family() == AF_INET) return sizeof(sockaddr_in);
  if (family() == AF_INET6) return sizeof(sockaddr_in6);
  return 0;
}

}  // namespace mesh::core
