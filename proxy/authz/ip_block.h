// IP addresses and CIDR blocks for `ipBlocks`, `remoteIpBlocks` and the `source.ip` /
// `remote.ip` / `destination.ip` conditions: "10.1.2.3" (a single address) or "10.0.0.0/16",
// IPv4 or IPv6.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace mesh::proxy::authz {

struct IpAddress {
  int family = 0;  // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes{};

  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is read as the IPv4 address it carries.
  static std::optional<IpAddress> parse(std::string_view text);
};

class IpBlock {
 public:
  // nullopt for text that is not an address or a CIDR block with a valid prefix length.
  static std::optional<IpBlock> parse(std::string_view text);
  bool contains(const IpAddress& address) const;

 private:
  IpAddress base_;
  int prefixBits_ = 0;
};

}  // namespace mesh::proxy::authz
