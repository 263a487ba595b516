#include "proxy/gateway/client_hello.h"

#include <cstdint>

namespace mesh::proxy {

namespace {

constexpr uint8_t kHandshakeRecord = 22;
constexpr uint8_t kClientHello = 1;
constexpr uint16_t kServerNameExtension = 0;
constexpr uint8_t kHostName = 0;

// A cursor over a byte string; every read is checked, and a short read fails the cursor.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}
  bool ok() const { return ok_; }
  bool empty() const { return rest_.empty(); }
  uint32_t number(std::size_t width) {
    if (rest_.size() < width) return fail();
    uint32_t v = 0;
    for (std::size_t i = 0; i < width; ++i) v = v << 8 | static_cast<uint8_t>(rest_[i]);
    rest_.remove_prefix(width);
    return v;
  }
  std::string_view bytes(std::size_t n) {
    if (rest_.size() < n) {
      fail();
      return {};
    }
    std::string_view out = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return out;
  }
  // A vector with a `width`-byte length prefix.
  std::string_view vector(std::size_t width) { return bytes(number(width)); }

 private:
  uint32_t fail() {
    ok_ = false;
    rest_ = {};
    return 0;
  }
  std::string_view rest_;
  bool ok_ = true;
};

ClientHelloSni refuse(std::string why) {
  ClientHelloSni out;
  out.state = ClientHelloSni::State::notTls;
  out.error = std::move(why);
  return out;
}

// A host name as SNI allows it: letters, digits, '-', '.', '_' (seen in the wild).
bool plausibleHostName(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  for (char c : name) {
    bool okChar = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.' || c == '_';
    if (!okChar) return false;
  }
  return true;
}

ClientHelloSni parseHello(std::string_view hello) {
  Reader r(hello);
  r.number(2);   // legacy_version
  r.bytes(32);   // random
  r.vector(1);   // legacy_session_id
  r.vector(2);   // cipher_suites
  r.vector(1);   // legacy_compression_methods
  ClientHelloSni out;
  out.state = ClientHelloSni::State::done;
  if (!r.ok()) return refuse("truncated ClientHello");
  if (r.empty()) return out;  // no extensions, so no SNI
  Reader extensions(r.vector(2));
  if (!r.ok()) return refuse("truncated extensions");
  while (!extensions.empty()) {
    uint32_t type = extensions.number(2);
    std::string_view body = extensions.vector(2);
    if (!extensions.ok()) return refuse("truncated extension");
    if (type != kServerNameExtension) continue;
    Reader names(body);
    Reader list(names.vector(2));
    while (list.ok() && !list.empty()) {
      uint32_t nameType = list.number(1);
      std::string_view name = list.vector(2);
      if (!list.ok()) break;
      if (nameType != kHostName) continue;
      if (!plausibleHostName(name)) return refuse("malformed server name");
      out.serverName.assign(name.data(), name.size());
      return out;
    }
    if (!names.ok() || !list.ok()) return refuse("malformed server_name extension");
  }
  return out;
}

}  // namespace

ClientHelloSni readClientHelloSni(std::string_view bytes) {
  // The handshake messages, joined from their records, up to the ClientHello's end.
  std::string handshake;
  Reader records(bytes);
  while (!records.empty()) {
    Reader peek = records;
    uint32_t type = peek.number(1);
    if (!peek.ok()) break;
    if (type != kHandshakeRecord) return refuse("not a TLS handshake record");
    uint32_t major = peek.number(1);
    if (peek.ok() && major != 3) return refuse("not a TLS record version");
    peek.number(1);
    uint32_t length = peek.number(2);
    if (!peek.ok()) break;  // the record header is not all here
    if (length == 0 || length > 16384 + 256) return refuse("bad TLS record length");
    std::string_view fragment = peek.bytes(length);
    if (!peek.ok()) break;  // the record is not all here
    handshake.append(fragment.data(), fragment.size());
    if (handshake.size() > kMaxHelloBytes) return refuse("ClientHello too large");
    records = peek;
    if (handshake.size() >= 4) {
      uint32_t helloLength = static_cast<uint8_t>(handshake[1]) << 16 |
                             static_cast<uint8_t>(handshake[2]) << 8 |
                             static_cast<uint8_t>(handshake[3]);
      if (static_cast<uint8_t>(handshake[0]) != kClientHello)
        return refuse("first handshake message is not a ClientHello");
      if (helloLength > kMaxHelloBytes) return refuse("ClientHello too large");
      if (handshake.size() >= 4 + helloLength)
        return parseHello(std::string_view(handshake).substr(4, helloLength));
    }
  }
  if (bytes.size() > kMaxHelloBytes + 64) return refuse("ClientHello too large");
  return {};
}

}  // namespace mesh::proxy
