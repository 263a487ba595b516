#include "proxy/capture/iptables_rules.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace mesh::proxy::capture {

using core::Code;

namespace {

constexpr const char* kInbound = "ISTIO_INBOUND";
constexpr const char* kInRedirect = "ISTIO_IN_REDIRECT";
constexpr const char* kOutput = "ISTIO_OUTPUT";
constexpr const char* kRedirect = "ISTIO_REDIRECT";
const std::vector<std::string> kChains = {kInbound, kInRedirect, kOutput, kRedirect};

// The two jumps from the built-in chains, written as iptables-save prints them, so that an
// installed one is recognised by comparing lines.
const std::string kPreroutingJump = "-A PREROUTING -p tcp -j ISTIO_INBOUND";
const std::string kOutputJump = "-A OUTPUT -p tcp -j ISTIO_OUTPUT";

std::vector<std::string_view> splitCommas(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

bool parseNumber(std::string_view text, uint32_t& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

core::Status bad(std::string_view flag, std::string_view item, std::string_view why) {
  return core::error(Code::invalid, std::string(flag) + ": \"" + std::string(item) + "\" " +
                                        std::string(why));
}

void appendPortReturns(std::string& out, const std::vector<uint32_t>& ports) {
  std::set<uint32_t> seen;
  for (uint32_t port : ports) {
    if (!seen.insert(port).second) continue;
    out += "-A " + std::string(kInbound) + " -p tcp --dport " + std::to_string(port) + " -j RETURN\n";
  }
}

// Istio's ISTIO_OUTPUT for one owner match ("--uid-owner 1337" or "--gid-owner 1337").
void appendOwnerRules(std::string& out, const std::string& owner, bool inboundCapture) {
  // The proxy calling a local address that is not 127.0.0.1 (its own pod IP, when the
  // service it called has this pod as endpoint) goes through the inbound side, as a call
  // from another pod would.
  if (inboundCapture) {
    out += "-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -m owner " + owner + " -j ISTIO_IN_REDIRECT\n";
  }
  // The app talking to itself over loopback is left alone.
  out += "-A ISTIO_OUTPUT -o lo -m owner ! " + owner + " -j RETURN\n";
  // The proxy's own connections are never captured: that would loop.
  out += "-A ISTIO_OUTPUT -m owner " + owner + " -j RETURN\n";
}

}  // namespace

core::Result<std::vector<uint32_t>> parsePortList(std::string_view text, std::string_view flag) {
  std::vector<uint32_t> ports;
  for (std::string_view item : splitCommas(text)) {
    uint32_t port = 0;
    if (!parseNumber(item, port) || port == 0 || port > 65535) {
      return bad(flag, item, "is not a port (1-65535)");
    }
    ports.push_back(port);
  }
  return ports;
}

core::Result<std::vector<std::string>> parseCidrList(std::string_view text, std::string_view flag) {
  std::vector<std::string> out;
  for (std::string_view item : splitCommas(text)) {
    size_t slash = item.find('/');
    std::string ip(item.substr(0, slash));
    uint32_t prefix = 32;
    if (slash != std::string_view::npos && !parseNumber(item.substr(slash + 1), prefix)) {
      return bad(flag, item, "has no valid prefix length");
    }
    in_addr v4{};
    if (ip.find(':') != std::string::npos) return bad(flag, item, "is IPv6; only IPv4 is captured");
    if (::inet_pton(AF_INET, ip.c_str(), &v4) != 1) return bad(flag, item, "is not an IPv4 address");
    if (prefix > 32) return bad(flag, item, "has a prefix longer than 32");
    out.push_back(ip + "/" + std::to_string(prefix));
  }
  return out;
}

core::Status setInboundPorts(CaptureOptions& options, std::string_view text) {
  options.allInboundPorts = text == "*";
  options.inboundPorts.clear();
  if (options.allInboundPorts) return {};
  auto ports = parsePortList(text, "--inbound-ports");
  if (!ports) return ports.status();
  options.inboundPorts = std::move(*ports);
  return {};
}

core::Status setOutboundIps(CaptureOptions& options, std::string_view include,
                            std::string_view exclude) {
  options.allOutboundIps = include == "*";
  options.includeOutboundIps.clear();
  if (!options.allOutboundIps) {
    auto cidrs = parseCidrList(include, "--include-outbound-ips");
    if (!cidrs) return cidrs.status();
    options.includeOutboundIps = std::move(*cidrs);
  }
  auto excluded = parseCidrList(exclude, "--exclude-outbound-ips");
  if (!excluded) return excluded.status();
  options.excludeOutboundIps = std::move(*excluded);
  return {};
}

Installed parseInstalled(std::string_view save) {
  Installed installed;
  bool nat = false;
  while (!save.empty()) {
    size_t end = save.find('\n');
    std::string_view line = save.substr(0, end);
    save.remove_prefix(end == std::string_view::npos ? save.size() : end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.starts_with('*')) nat = line == "*nat";
    if (!nat) continue;
    for (const auto& chain : kChains) {
      if (line.starts_with(":" + chain + " ")) installed.chains.insert(chain);
    }
    bool builtin = line.starts_with("-A PREROUTING ") || line.starts_with("-A OUTPUT ");
    for (const auto& chain : kChains) {
      if (builtin && line.ends_with(" -j " + chain)) installed.jumps.emplace_back(line);
    }
  }
  return installed;
}

Installed fullInstallation() {
  Installed installed;
  installed.chains.insert(kChains.begin(), kChains.end());
  installed.jumps = {kPreroutingJump, kOutputJump};
  return installed;
}

std::string installRules(const CaptureOptions& o, const Installed& installed) {
  bool inboundCapture = o.allInboundPorts || !o.inboundPorts.empty();
  bool outboundCapture = o.allOutboundIps || !o.includeOutboundIps.empty();
  std::string out = "*nat\n";
  // Declaring a chain creates it, or empties it when it exists (with --noflush the other
  // chains of the table are untouched).
  for (const auto& chain : kChains) out += ":" + chain + " - [0:0]\n";
  out += "-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports " + std::to_string(o.outboundPort) + "\n";
  out += "-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports " + std::to_string(o.inboundPort) + "\n";

  if (o.allInboundPorts) {
    std::vector<uint32_t> excluded = kProxyPorts;
    excluded.insert(excluded.end(), o.excludeInboundPorts.begin(), o.excludeInboundPorts.end());
    appendPortReturns(out, excluded);
    out += "-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT\n";
  } else {
    std::set<uint32_t> seen;
    for (uint32_t port : o.inboundPorts) {
      if (!seen.insert(port).second) continue;
      out += "-A ISTIO_INBOUND -p tcp --dport " + std::to_string(port) + " -j ISTIO_IN_REDIRECT\n";
    }
  }

  // Envoy's inbound passthrough connections come from 127.0.0.6; keep them out too, so a
  // pod that runs either sidecar behaves the same.
  out += "-A ISTIO_OUTPUT -s 127.0.0.6/32 -o lo -j RETURN\n";
  appendOwnerRules(out, "--uid-owner " + std::to_string(o.proxyUid), inboundCapture);
  appendOwnerRules(out, "--gid-owner " + std::to_string(o.proxyGid), inboundCapture);
  out += "-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN\n";
  std::set<uint32_t> excludedPorts;
  for (uint32_t port : o.excludeOutboundPorts) {
    if (!excludedPorts.insert(port).second) continue;
    out += "-A ISTIO_OUTPUT -p tcp --dport " + std::to_string(port) + " -j RETURN\n";
  }
  for (const auto& cidr : o.excludeOutboundIps) out += "-A ISTIO_OUTPUT -d " + cidr + " -j RETURN\n";
  if (o.allOutboundIps) {
    out += "-A ISTIO_OUTPUT -j ISTIO_REDIRECT\n";
  } else {
    for (const auto& cidr : o.includeOutboundIps) {
      out += "-A ISTIO_OUTPUT -d " + cidr + " -j ISTIO_REDIRECT\n";
    }
  }

  // Exactly one jump into each of our chains from PREROUTING and OUTPUT: keep a correct one
  // that is there, delete duplicates and any other jump into our chains.
  std::vector<std::string> wanted;
  if (inboundCapture) wanted.push_back(kPreroutingJump);
  if (outboundCapture) wanted.push_back(kOutputJump);
  for (const auto& jump : installed.jumps) {
    auto it = std::find(wanted.begin(), wanted.end(), jump);
    if (it != wanted.end()) {
      wanted.erase(it);
      continue;
    }
    out += "-D" + jump.substr(2) + "\n";
  }
  for (const auto& jump : wanted) out += jump + "\n";
  out += "COMMIT\n";
  return out;
}

std::string cleanupRules(const Installed& installed) {
  if (installed.chains.empty() && installed.jumps.empty()) return {};
  std::string out = "*nat\n";
  for (const auto& chain : installed.chains) out += ":" + chain + " - [0:0]\n";
  for (const auto& jump : installed.jumps) out += "-D" + jump.substr(2) + "\n";
  for (const auto& chain : installed.chains) out += "-X " + chain + "\n";
  out += "COMMIT\n";
  return out;
}

}  // namespace mesh::proxy::capture
