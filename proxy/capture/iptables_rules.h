// The nat rules that make a pod's traffic go through its sidecar without the app knowing:
// Istio's chains and rules, so that people who debug them with `iptables-save` find what
// they know. Inbound TCP (PREROUTING -> ISTIO_INBOUND) goes to the inbound capture port
// (ISTIO_IN_REDIRECT, 15006) except the excluded ports; outbound TCP from the app
// (OUTPUT -> ISTIO_OUTPUT) goes to the outbound capture port (ISTIO_REDIRECT, 15001), while
// the proxy's own traffic (its uid or gid) and traffic to 127.0.0.1 leave as they are.
//
// This unit only writes text: the input of `iptables-restore --noflush` for installing or
// removing the rules, given what `iptables-save -t nat` shows is already there. Declaring a
// chain in that input flushes it, and each jump from a built-in chain is added only when it
// is missing, so applying twice leaves one set of rules. Running iptables is
// proxy/capture/iptables_apply.h. IPv4 only.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"

namespace mesh::proxy::capture {

struct CaptureOptions {
  uint32_t outboundPort = 15001;  // where ISTIO_REDIRECT sends the app's outbound TCP
  uint32_t inboundPort = 15006;   // where ISTIO_IN_REDIRECT sends inbound TCP
  uint32_t proxyUid = 1337;       // the proxy's own connections are not captured
  uint32_t proxyGid = 1337;
  // Inbound ports to capture: all (every port but the excluded ones), none, or a list.
  bool allInboundPorts = true;
  std::vector<uint32_t> inboundPorts;
  // Never captured inbound, on top of the proxy's own 15090, 15021 and 15020.
  std::vector<uint32_t> excludeInboundPorts;
  // Outbound destinations (IPv4 CIDRs) to capture: all, or the listed ones.
  bool allOutboundIps = true;
  std::vector<std::string> includeOutboundIps;
  std::vector<std::string> excludeOutboundIps;  // checked first
  // Outbound TCP to these destination ports is never captured (a database the app reaches
  // with its own TLS, say), whatever its address.
  std::vector<uint32_t> excludeOutboundPorts;
};

// The ports the proxy serves itself (Prometheus, readiness, agent): never captured.
inline const std::vector<uint32_t> kProxyPorts = {15090, 15021, 15020};

// "9080,9090" -> ports; "" -> none. Each must be 1..65535.
core::Result<std::vector<uint32_t>> parsePortList(std::string_view text, std::string_view flag);
// "10.0.0.0/8,192.168.1.1" -> the CIDRs, written with their prefix ("/32" added).
core::Result<std::vector<std::string>> parseCidrList(std::string_view text, std::string_view flag);

// Fills the inbound and outbound selections from the flag values ("*" means all).
core::Status setInboundPorts(CaptureOptions& options, std::string_view text);
core::Status setOutboundIps(CaptureOptions& options, std::string_view include,
                            std::string_view exclude);

// What of ours `iptables-save -t nat` shows.
struct Installed {
  std::set<std::string> chains;    // ISTIO_* chains that exist
  std::vector<std::string> jumps;  // "-A PREROUTING ... -j ISTIO_INBOUND" lines, as saved
};
Installed parseInstalled(std::string_view iptablesSave);
// What a complete installation shows, whatever its options (for `--cleanup --dry-run`).
Installed fullInstallation();

// The iptables-restore input that installs the rules, or replaces an older set of them.
std::string installRules(const CaptureOptions& options, const Installed& installed);
// The iptables-restore input that removes every rule and chain of ours; empty when there is
// nothing to remove.
std::string cleanupRules(const Installed& installed);

}  // namespace mesh::proxy::capture
