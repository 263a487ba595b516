// `mesh proxy iptables`: install (or with --cleanup remove) the nat rules that redirect a
// pod's TCP traffic to its sidecar; the injected init container runs it. Flags only: the
// rules are proxy/capture/iptables_rules.h, running iptables is proxy/capture/iptables_apply.h.
#include <cstdio>
#include <memory>
#include <string>

#include "cmd/command.h"
#include "proxy/capture/iptables_apply.h"
#include "proxy/capture/iptables_rules.h"

namespace mesh::cmd {

namespace {

struct IptablesFlags {
  proxy::capture::CaptureOptions options;
  std::string inboundPorts = "*";
  std::string excludeInboundPorts;
  std::string includeOutboundIps = "*";
  std::string excludeOutboundIps;
  std::string excludeOutboundPorts;
  bool dryRun = false;
  bool cleanup = false;
};

int fail(const core::Status& status) {
  std::fprintf(stderr, "mesh proxy iptables: %s\n", status.message().c_str());
  return status.code() == core::Code::invalid ? 2 : 1;
}

int run(IptablesFlags& f) {
  auto& o = f.options;
  if (core::Status s = proxy::capture::setInboundPorts(o, f.inboundPorts); !s) return fail(s);
  auto excluded = proxy::capture::parsePortList(f.excludeInboundPorts, "--exclude-inbound-ports");
  if (!excluded) return fail(excluded.status());
  o.excludeInboundPorts = *excluded;
  auto outboundPorts =
      proxy::capture::parsePortList(f.excludeOutboundPorts, "--exclude-outbound-ports");
  if (!outboundPorts) return fail(outboundPorts.status());
  o.excludeOutboundPorts = *outboundPorts;
  if (core::Status s = proxy::capture::setOutboundIps(o, f.includeOutboundIps, f.excludeOutboundIps); !s) {
    return fail(s);
  }
  if (f.dryRun) {
    namespace capture = proxy::capture;
    std::string rules = f.cleanup ? capture::cleanupRules(capture::fullInstallation())
                                  : capture::installRules(o, {});
    std::fputs(rules.c_str(), stdout);
    return 0;
  }
  core::Status s = f.cleanup ? proxy::capture::removeCapture() : proxy::capture::installCapture(o);
  if (!s) return fail(s);
  std::printf("mesh proxy iptables: %s\n", f.cleanup ? "capture rules removed" : "capture rules installed");
  return 0;
}

void addProxyIptables(CLI::App& app, Context& ctx) {
  CLI::App* proxy = app.get_subcommand("proxy");
  auto* sub = proxy->add_subcommand(
      "iptables", "Redirect this network namespace's TCP traffic to the sidecar (nat rules)");
  auto f = std::make_shared<IptablesFlags>();
  auto& o = f->options;
  sub->add_option("--proxy-uid", o.proxyUid, "The proxy's uid: its own traffic is not captured")
      ->capture_default_str();
  sub->add_option("--proxy-gid", o.proxyGid, "The proxy's gid: its own traffic is not captured")
      ->capture_default_str();
  sub->add_option("--outbound-port", o.outboundPort, "The outbound capture port")
      ->capture_default_str()
      ->check(CLI::Range(1, 65535));
  sub->add_option("--inbound-port", o.inboundPort, "The inbound capture port")
      ->capture_default_str()
      ->check(CLI::Range(1, 65535));
  sub->add_option("--inbound-ports", f->inboundPorts,
                  "Inbound ports to capture: '*' (all), '' (none) or a list 9080,9090")
      ->capture_default_str();
  sub->add_option("--exclude-inbound-ports", f->excludeInboundPorts,
                  "Inbound ports never captured, besides 15090, 15021 and 15020");
  sub->add_option("--include-outbound-ips", f->includeOutboundIps,
                  "Outbound destinations to capture: '*' or IPv4 CIDRs 10.0.0.0/8,...")
      ->capture_default_str();
  sub->add_option("--exclude-outbound-ips", f->excludeOutboundIps,
                  "Outbound destinations never captured, IPv4 CIDRs");
  sub->add_option("--exclude-outbound-ports", f->excludeOutboundPorts,
                  "Outbound destination ports never captured, 3306,5432,...");
  sub->add_flag("--dry-run", f->dryRun, "Print the iptables-restore input instead of applying it");
  sub->add_flag("--cleanup", f->cleanup, "Remove the rules and chains instead");
  sub->callback([&ctx, f] { ctx.exitCode = run(*f); });
}

}  // namespace

// After "proxy" (commands outside the main list are added last), as its subcommand.
MESH_COMMAND("proxy iptables", addProxyIptables);

}  // namespace mesh::cmd
