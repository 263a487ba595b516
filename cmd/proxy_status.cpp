// `mesh proxy-status [--pilot ADDR] [-o table|json]`: which proxies are connected to a pilot
// and whether each runs the config last sent to it, as `istioctl proxy-status` shows it.
// Flags only; the page is pilot/debug's /debug/syncz.
#include <cstdio>
#include <memory>
#include <string>

#include "cmd/command.h"
#include "core/loop/resolver.h"
#include "pilot/debug/proxy_status.h"

namespace mesh::cmd {
namespace {

struct Flags {
  std::string pilot = "127.0.0.1:15014";
  std::string output = "table";
};

int run(const Flags& flags) {
  auto address = core::SocketAddress::parseHostPort(flags.pilot);
  if (!address) {
    auto colon = flags.pilot.rfind(':');
    auto ips = colon == std::string::npos ? core::Result<std::vector<std::string>>(address.status())
                                          : core::resolveBlocking(flags.pilot.substr(0, colon));
    if (ips) address = core::SocketAddress::parseHostPort(ips->front() + flags.pilot.substr(colon));
  }
  if (!address) {
    std::fprintf(stderr, "mesh proxy-status: --pilot %s: %s\n", flags.pilot.c_str(),
                 address.status().toString().c_str());
    return 1;
  }
  auto body = pilot::httpGet(*address, "/debug/syncz");
  if (!body) {
    std::fprintf(stderr, "mesh proxy-status: %s\n", body.status().toString().c_str());
    return 1;
  }
  auto syncz = nlohmann::json::parse(*body, nullptr, false);
  if (syncz.is_discarded() || !syncz.is_array()) {
    std::fprintf(stderr, "mesh proxy-status: pilot sent something that is not a proxy list\n");
    return 1;
  }
  if (flags.output == "json") {
    std::printf("%s\n", syncz.dump(2).c_str());
  } else {
    std::printf("%s", pilot::formatProxyStatus(syncz).c_str());
  }
  return 0;
}

void addProxyStatus(CLI::App& app, Context& ctx) {
  auto* sub = app.add_subcommand("proxy-status", "Show the proxies connected to pilot and their sync state");
  auto flags = std::make_shared<Flags>();
  sub->add_option("--pilot", flags->pilot, "Pilot's monitoring address HOST:PORT")->capture_default_str();
  sub->add_option("-o,--output", flags->output, "table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  sub->callback([&ctx, flags] { ctx.exitCode = run(*flags); });
}

}  // namespace

MESH_COMMAND("proxy-status", addProxyStatus);

}  // namespace mesh::cmd
