#include "pilot/server/hello.h"

#include <arpa/inet.h>

namespace mesh::pilot {

namespace {

constexpr std::size_t kMaxString = 253;
constexpr std::size_t kMaxLabels = 64;
constexpr std::size_t kMaxPorts = 64;

core::Status invalid(const std::string& why) { return core::error(core::Code::invalid, "hello: " + why); }

core::Result<std::string> stringField(const nlohmann::json& m, const char* key, bool required) {
  auto it = m.find(key);
  if (it == m.end() || it->is_null()) {
    if (required) return invalid(std::string(key) + " is required");
    return std::string();
  }
  if (!it->is_string()) return invalid(std::string(key) + " must be a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > kMaxString) return invalid(std::string(key) + " is too long");
  if (required && s.empty()) return invalid(std::string(key) + " is required");
  return s;
}

core::Result<std::uint32_t> portValue(const nlohmann::json& v, const char* what) {
  if (!v.is_number_unsigned() || v.get<std::uint64_t>() == 0 || v.get<std::uint64_t>() > 65535) {
    return invalid(std::string(what) + " must be a port number");
  }
  return v.get<std::uint32_t>();
}

// A numeric IPv4 or IPv6 address: the gateway binds its listeners there.
bool isIpAddress(const std::string& s) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

}  // namespace

core::Result<Hello> parseHello(const nlohmann::json& m, const core::SpiffeId& peer) {
  Hello hello;
  ProxyInfo& p = hello.proxy;
  auto node = stringField(m, "node", true);
  auto ns = stringField(m, "namespace", true);
  auto sa = stringField(m, "service_account", true);
  auto address = stringField(m, "address", false);
  for (const auto* r : {&node, &ns, &sa, &address}) {
    if (!r->ok()) return r->status();
  }
  p.node = *node;
  p.ns = *ns;
  p.serviceAccount = *sa;
  p.address = *address;
  if (p.ns != peer.ns() || p.serviceAccount != peer.serviceAccount()) {
    return core::error(core::Code::denied, "hello: claims ns/" + p.ns + "/sa/" + p.serviceAccount +
                                               " but the certificate is " + peer.toString());
  }
  p.identity = peer.toString();
  if (auto labels = m.find("labels"); labels != m.end() && !labels->is_null()) {
    if (!labels->is_object() || labels->size() > kMaxLabels) return invalid("labels must be a small map");
    for (const auto& [k, v] : labels->items()) {
      if (!v.is_string() || k.size() > kMaxString || v.get_ref<const std::string&>().size() > kMaxString) {
        return invalid("labels must map strings to strings");
      }
      p.labels[k] = v.get<std::string>();
    }
  }
  if (auto ports = m.find("ports"); ports != m.end() && !ports->is_null()) {
    if (!ports->is_array() || ports->size() > kMaxPorts) return invalid("ports must be a short list");
    for (const auto& v : *ports) {
      auto port = portValue(v, "ports[]");
      if (!port) return port.status();
      p.ports.push_back(*port);
    }
  }
  if (auto sidecar = m.find("sidecar_port"); sidecar != m.end() && !sidecar->is_null()) {
    auto port = portValue(*sidecar, "sidecar_port");
    if (!port) return port.status();
    p.sidecarPort = *port;
  }
  if (auto gateway = m.find("gateway"); gateway != m.end() && !gateway->is_null()) {
    if (!gateway->is_boolean()) return invalid("gateway must be a boolean");
    p.gateway = gateway->get<bool>();
  }
  auto gatewayAddress = stringField(m, "gateway_address", false);
  if (!gatewayAddress.ok()) return gatewayAddress.status();
  if (!gatewayAddress->empty()) {
    if (!isIpAddress(*gatewayAddress)) return invalid("gateway_address must be an IP address");
    p.gatewayAddress = *gatewayAddress;
  }
  if (auto delta = m.find("delta"); delta != m.end() && !delta->is_null()) {
    if (!delta->is_boolean()) return invalid("delta must be a boolean");
    hello.delta = delta->get<bool>();
  }
  if (auto serving = m.find("serving"); serving != m.end() && !serving->is_null()) {
    if (!serving->is_boolean()) return invalid("serving must be a boolean");
    hello.serving = serving->get<bool>();
  }
  return hello;
}

}  // namespace mesh::pilot
