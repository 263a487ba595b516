#include "proxy/capture/capture_table.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace mesh::proxy::capture {

using core::model::Listener;

namespace {

std::string key(const std::string& ip, uint32_t port) { return ip + ":" + std::to_string(port); }

// "10.96.0.12:9080" -> itself; names and domains without a port -> "".
std::string numericDomain(const std::string& domain) {
  size_t colon = domain.rfind(':');
  if (colon == std::string::npos || colon == 0) return {};
  std::string host = domain.substr(0, colon);
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  in6_addr any{};
  bool ip = ::inet_pton(AF_INET, host.c_str(), &any) == 1 || ::inet_pton(AF_INET6, host.c_str(), &any) == 1;
  uint32_t port = 0;
  for (char c : domain.substr(colon + 1)) {
    if (c < '0' || c > '9' || port > 65535) return {};
    port = port * 10 + static_cast<uint32_t>(c - '0');
  }
  return ip && port > 0 && port <= 65535 ? key(host, port) : std::string();
}

bool canBind(const std::string& ip) {
  auto address = core::SocketAddress::parse(ip, 0);
  if (!address.ok()) return false;
  int fd = ::socket(address->family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool ok = ::bind(fd, address->raw(), address->rawSize()) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

const char* kindName(CaptureDecision::Kind kind) {
  switch (kind) {
    case CaptureDecision::Kind::http:
      return "http";
    case CaptureDecision::Kind::tcp:
      return "tcp";
    case CaptureDecision::Kind::passthrough:
      return "passthrough";
    case CaptureDecision::Kind::refuse:
      return "refused";
  }
  return "?";
}

void CaptureTable::update(const core::model::Snapshot& snapshot) {
  tcp_.clear();
  http_.clear();
  allowAny_ = snapshot.outboundTrafficPolicy != "REGISTRY_ONLY";
  std::set<std::string> captureTables;
  for (const auto& l : snapshot.listeners) {
    if (l.direction != Listener::Direction::outbound) continue;
    if (l.protocol == "tcp") tcp_.emplace(key(l.address, l.port), l.cluster);
    if (l.capture) captureTables.insert(l.routeTable);
  }
  for (const auto& table : snapshot.routeTables) {
    if (!captureTables.count(table.name)) continue;
    for (const auto& host : table.virtualHosts) {
      for (const auto& domain : host.domains) {
        if (auto k = numericDomain(domain); !k.empty()) http_.insert(std::move(k));
      }
    }
  }
}

CaptureDecision CaptureTable::classify(const core::SocketAddress& original) const {
  std::string k = key(original.ip(), original.port());
  if (auto it = tcp_.find(k); it != tcp_.end()) return {CaptureDecision::Kind::tcp, it->second};
  if (http_.count(k)) return {CaptureDecision::Kind::http, {}};
  return {allowAny_ ? CaptureDecision::Kind::passthrough : CaptureDecision::Kind::refuse, {}};
}

bool reachedOnlyThroughCapture(const Listener& listener) {
  if (listener.direction != Listener::Direction::outbound || listener.protocol != "tcp") return false;
  return !canBind(listener.address);
}

}  // namespace mesh::proxy::capture
