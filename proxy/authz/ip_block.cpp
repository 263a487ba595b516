#include "proxy/authz/ip_block.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <string>

namespace mesh::proxy::authz {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  std::string s(text);
  IpAddress out;
  if (inet_pton(AF_INET, s.c_str(), out.bytes.data()) == 1) {
    out.family = AF_INET;
    return out;
  }
  if (inet_pton(AF_INET6, s.c_str(), out.bytes.data()) == 1) {
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(out.bytes.data(), kMapped, sizeof(kMapped)) == 0) {
      std::memmove(out.bytes.data(), out.bytes.data() + 12, 4);
      std::memset(out.bytes.data() + 4, 0, 12);
      out.family = AF_INET;
    } else {
      out.family = AF_INET6;
    }
    return out;
  }
  return std::nullopt;
}

std::optional<IpBlock> IpBlock::parse(std::string_view text) {
  size_t slash = text.find('/');
  auto address = IpAddress::parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  int maxBits = address->family == AF_INET ? 32 : 128;
  int bits = maxBits;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
    if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty() || bits < 0 ||
        bits > maxBits)
      return std::nullopt;
  }
  IpBlock block;
  block.base_ = *address;
  block.prefixBits_ = bits;
  return block;
}

bool IpBlock::contains(const IpAddress& address) const {
  if (address.family != base_.family) return false;
  int full = prefixBits_ / 8, rest = prefixBits_ % 8;
  if (std::memcmp(address.bytes.data(), base_.bytes.data(), full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (address.bytes[full] & mask) == (base_.bytes[full] & mask);
}

}  // namespace mesh::proxy::authz
