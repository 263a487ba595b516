#include "proxy/telemetry/peer_metadata.h"

namespace mesh::proxy::telemetry {
namespace {

bool isPlain(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == '-';
}

void appendEscaped(std::string& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : value) {
    if (isPlain(c)) {
      out += c;
      continue;
    }
    auto byte = static_cast<unsigned char>(c);
    out += '%';
    out += kHex[byte >> 4];
    out += kHex[byte & 0xf];
  }
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Plain bytes and %XX escapes only.
bool isEscaped(std::string_view in) {
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      if (!isPlain(in[i])) return false;
      continue;
    }
    if (i + 2 >= in.size() || hexValue(in[i + 1]) < 0 || hexValue(in[i + 2]) < 0) return false;
    i += 2;
  }
  return true;
}

// `in` has passed isEscaped.
std::string unescape(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    out += static_cast<char>(hexValue(in[i + 1]) * 16 + hexValue(in[i + 2]));
    i += 2;
  }
  return out;
}

// Calls fn(key, escaped value) for each pair; false when a pair has no key or no '='.
template <typename Fn>
bool forEachPair(std::string_view value, Fn&& fn) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view pair = value.substr(0, comma);
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0) return false;
    if (!fn(pair.substr(0, eq), pair.substr(eq + 1))) return false;
  }
  return true;
}

void appendPair(std::string& out, char key, std::string_view value) {
  if (value.empty()) return;
  if (!out.empty()) out += ',';
  out += key;
  out += '=';
  appendEscaped(out, value);
}

}  // namespace

std::string encodePeerMetadata(const PeerMetadata& m) {
  std::string out;
  appendPair(out, 'w', m.workload);
  appendPair(out, 'n', m.ns);
  appendPair(out, 'a', m.app);
  appendPair(out, 'v', m.version);
  appendPair(out, 'c', m.cluster);
  return out;
}

bool isValidPeerMetadata(std::string_view value) {
  if (value.empty() || value.size() > kMaxPeerMetadataSize) return false;
  bool workload = false;
  bool wellFormed = forEachPair(value, [&](std::string_view key, std::string_view escaped) {
    if (key == "w") workload = !escaped.empty();  // the last one counts, as in decoding
    return isEscaped(escaped);
  });
  return wellFormed && workload;
}

std::optional<PeerMetadata> decodePeerMetadata(std::string_view value) {
  if (!isValidPeerMetadata(value)) return std::nullopt;
  PeerMetadata m;
  forEachPair(value, [&](std::string_view key, std::string_view escaped) {
    if (key == "w") m.workload = unescape(escaped);
    else if (key == "n") m.ns = unescape(escaped);
    else if (key == "a") m.app = unescape(escaped);
    else if (key == "v") m.version = unescape(escaped);
    else if (key == "c") m.cluster = unescape(escaped);
    return true;
  });
  return m;
}

}  // namespace mesh::proxy::telemetry
