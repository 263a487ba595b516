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

bool unescape(std::string_view in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      if (!isPlain(in[i])) return false;
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = hexValue(in[i + 1]), lo = hexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
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

std::optional<PeerMetadata> decodePeerMetadata(std::string_view value) {
  if (value.empty() || value.size() > kMaxPeerMetadataSize) return std::nullopt;
  PeerMetadata m;
  std::string decoded;
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view pair = value.substr(0, comma);
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0) return std::nullopt;
    if (!unescape(pair.substr(eq + 1), decoded)) return std::nullopt;
    std::string_view key = pair.substr(0, eq);
    if (key == "w") m.workload = decoded;
    else if (key == "n") m.ns = decoded;
    else if (key == "a") m.app = decoded;
    else if (key == "v") m.version = decoded;
    else if (key == "c") m.cluster = decoded;
  }
  if (m.workload.empty()) return std::nullopt;
  return m;
}

}  // namespace mesh::proxy::telemetry
