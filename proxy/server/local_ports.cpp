#include "proxy/server/local_ports.h"

#include "core/loop/address.h"

namespace mesh::proxy {

namespace {

bool parsePort(std::string_view text, bool allowZero, std::uint32_t& out) {
  if (text.empty() || text.size() > 5) return false;
  std::uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (value > 65535 || (value == 0 && !allowZero)) return false;
  out = value;
  return true;
}

core::Status invalid(const char* flag, std::string_view text, const char* want) {
  return core::error(core::Code::invalid,
                     std::string(flag) + " wants " + want + ", got \"" + std::string(text) + "\"");
}

}  // namespace

core::Status parseListenerPort(std::string_view text, LocalPorts& out) {
  constexpr const char* kWant = "PORT=PORT or PORT=IP:PORT";
  size_t eq = text.find('=');
  std::uint32_t from = 0;
  if (eq == std::string_view::npos || !parsePort(text.substr(0, eq), false, from)) {
    return invalid("--listener-port", text, kWant);
  }
  std::string_view to = text.substr(eq + 1);
  ListenAt at;
  if (to.find(':') == std::string_view::npos) {
    if (!parsePort(to, true, at.port)) return invalid("--listener-port", text, kWant);
  } else {
    auto address = core::SocketAddress::parseHostPort(to);
    if (!address.ok()) return invalid("--listener-port", text, kWant);
    at.address = address->ip();
    at.port = address->port();
  }
  out.listeners[from] = at;
  return {};
}

core::Status parseAppPort(std::string_view text, LocalPorts& out) {
  size_t eq = text.find('=');
  std::uint32_t from = 0, to = 0;
  if (eq == std::string_view::npos || !parsePort(text.substr(0, eq), false, from) ||
      !parsePort(text.substr(eq + 1), false, to)) {
    return invalid("--app-port", text, "PORT=LOCALPORT");
  }
  out.app[from] = to;
  return {};
}

core::Status parseInboundAddress(std::string_view text, LocalPorts& out) {
  if (!core::SocketAddress::parse(text, 0).ok()) {
    return invalid("--inbound-address", text, "an IP address");
  }
  out.inboundAddress = std::string(text);
  return {};
}

void localize(core::model::Snapshot& snapshot, const LocalPorts& ports) {
  for (auto& listener : snapshot.listeners) {
    if (listener.direction == core::model::Listener::Direction::inbound) {
      if (!ports.inboundAddress.empty()) listener.address = ports.inboundAddress;
      continue;
    }
    auto it = ports.listeners.find(listener.port);
    if (it == ports.listeners.end()) continue;
    if (!it->second.address.empty()) listener.address = it->second.address;
    listener.port = it->second.port;
  }
  if (ports.app.empty()) return;
  // Inbound clusters ("inbound|9080||") reach the local app; outbound ones are left alone.
  for (auto& cluster : snapshot.clusters) {
    if (cluster.name.rfind("inbound|", 0) != 0) continue;
    for (auto& endpoint : cluster.endpoints) {
      auto it = ports.app.find(endpoint.port);
      if (it != ports.app.end()) endpoint.port = it->second;
    }
  }
}

}  // namespace mesh::proxy
