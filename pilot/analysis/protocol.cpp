#include "pilot/analysis/protocol.h"

#include <cctype>

namespace mesh::pilot::analysis {

namespace {
std::string upper(std::string_view s) {
  std::string out;
  for (char c : s) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}
}  // namespace

std::string protocolFromPortName(std::string_view name) {
  static const char* known[] = {"GRPC-WEB", "GRPC", "HTTP2", "HTTPS", "HTTP", "MONGO",
                                "MYSQL",    "REDIS", "TCP",  "TLS",   "UDP"};
  const std::string n = upper(name);
  for (const char* p : known) {
    const std::string proto(p);
    if (n == proto) return proto;
    // "grpc-web" must not be read as "grpc" with a suffix, hence the order above.
    if (n.size() > proto.size() && n.compare(0, proto.size(), proto) == 0 &&
        n[proto.size()] == '-') {
      return proto;
    }
  }
  return "";
}

bool isTcpLevel(std::string_view protocol) {
  const std::string p = upper(protocol);
  return p == "TCP" || p == "MONGO" || p == "REDIS" || p == "MYSQL";
}

}  // namespace mesh::pilot::analysis
