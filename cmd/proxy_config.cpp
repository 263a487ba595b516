// `mesh proxy-config TYPE [--admin HOST:PORT] [-o short|json] [filters]`: one proxy's live
// configuration (clusters, listeners, routes, endpoints, secrets) as `istioctl proxy-config`
// shows it, read from the proxy's admin port. Flags only; the tables are
// pilot/debug/proxy_config.
#include <cstdio>
#include <memory>
#include <string>

#include "cmd/command.h"
#include "core/loop/resolver.h"
#include "pilot/debug/proxy_config.h"
#include "pilot/debug/proxy_status.h"
#include "proxy/admin/certs_page.h"

namespace mesh::cmd {
namespace {

using pilot::ProxyConfigType;

struct Flags {
  std::string type;
  std::string admin = "127.0.0.1:15000";
  std::string output = "short";
  pilot::ProxyConfigFilter filter;
};

core::Result<core::SocketAddress> resolveAdmin(const std::string& hostPort) {
  auto address = core::SocketAddress::parseHostPort(hostPort);
  if (address) return address;
  auto colon = hostPort.rfind(':');
  if (colon == std::string::npos) return address.status();
  auto ips = core::resolveBlocking(hostPort.substr(0, colon));
  if (!ips) return ips.status();
  return core::SocketAddress::parseHostPort(ips->front() + hostPort.substr(colon));
}

// One admin page, parsed as JSON when `json` is set (else returned as a JSON string).
core::Result<nlohmann::json> fetch(const core::SocketAddress& admin, const std::string& path,
                                   bool json) {
  auto body = pilot::httpGet(admin, path);
  if (!body) return body.status();
  if (!json) return nlohmann::json(*body);
  auto parsed = nlohmann::json::parse(*body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return core::error(core::Code::invalid, "the proxy's " + path + " is not a JSON object");
  }
  return parsed;
}

int run(const Flags& flags) {
  auto type = pilot::parseProxyConfigType(flags.type);
  if (flags.type.empty()) {
    std::fprintf(stderr,
                 "mesh proxy-config: which TYPE? (cluster, listener, route, endpoint, "
                 "secret, all)\n");
    return 2;
  }
  if (!type) {
    std::fprintf(stderr,
                 "mesh proxy-config: unknown type \"%s\" (cluster, listener, route, endpoint, "
                 "secret, all)\n",
                 flags.type.c_str());
    return 2;
  }
  if (flags.output != "short" && flags.output != "json") {
    std::fprintf(stderr, "mesh proxy-config: -o %s: use short or json\n", flags.output.c_str());
    return 2;
  }
  auto admin = resolveAdmin(flags.admin);
  if (!admin) {
    std::fprintf(stderr, "mesh proxy-config: --admin %s: %s\n", flags.admin.c_str(),
                 admin.status().toString().c_str());
    return 1;
  }
  bool all = *type == ProxyConfigType::all;
  auto wants = [&](ProxyConfigType t) { return all || *type == t; };
  bool json = flags.output == "json";

  nlohmann::json configDump, certs;
  std::vector<pilot::AdminHost> hosts;
  auto fail = [&](const core::Status& status) {
    std::fprintf(stderr, "mesh proxy-config: %s: %s\n", flags.admin.c_str(),
                 status.toString().c_str());
    return 1;
  };
  if (wants(ProxyConfigType::cluster) || wants(ProxyConfigType::listener) ||
      wants(ProxyConfigType::route)) {
    auto page = fetch(*admin, "/config_dump", true);
    if (!page) return fail(page.status());
    configDump = std::move(*page);
  }
  if (wants(ProxyConfigType::endpoint)) {
    auto page = fetch(*admin, "/clusters", false);
    if (!page) return fail(page.status());
    hosts = pilot::parseAdminClusters(page->get<std::string>());
  }
  if (wants(ProxyConfigType::secret)) {
    auto page = fetch(*admin, "/certs", true);
    if (!page) return fail(page.status());
    certs = std::move(*page);
  }

  const auto& f = flags.filter;
  if (json) {
    nlohmann::json out = nlohmann::json::object();
    if (wants(ProxyConfigType::cluster)) out["clusters"] = pilot::selectClusters(configDump, f);
    if (wants(ProxyConfigType::listener)) out["listeners"] = pilot::selectListeners(configDump, f);
    if (wants(ProxyConfigType::route)) out["routeTables"] = pilot::selectRoutes(configDump, f);
    if (wants(ProxyConfigType::endpoint)) out["endpoints"] = pilot::selectEndpoints(hosts, f);
    if (wants(ProxyConfigType::secret))
      out["certificates"] = certs.value("certificates", nlohmann::json::array());
    // One type prints its list alone; `all` prints them together, keyed by kind.
    std::printf("%s\n", (all ? out : out.begin().value()).dump(2).c_str());
    return 0;
  }
  std::string text;
  auto section = [&](const std::string& table) {
    if (!text.empty()) text += "\n";
    text += table;
  };
  if (wants(ProxyConfigType::cluster)) section(pilot::formatClusters(configDump, f));
  if (wants(ProxyConfigType::listener)) section(pilot::formatListeners(configDump, f));
  if (wants(ProxyConfigType::route)) section(pilot::formatRoutes(configDump, f));
  if (wants(ProxyConfigType::endpoint)) section(pilot::formatEndpoints(hosts, f));
  if (wants(ProxyConfigType::secret)) {
    section(pilot::formatSecrets(certs, proxy::rfc3339(std::chrono::system_clock::now())));
  }
  std::printf("%s", text.c_str());
  return 0;
}

void addProxyConfig(CLI::App& app, Context& ctx) {
  auto* sub = app.add_subcommand("proxy-config", "Show one proxy's live configuration");
  auto flags = std::make_shared<Flags>();
  sub->add_option("type", flags->type,
                  "cluster, listener, route, endpoint, secret (or the plural) or all");
  sub->add_option("--admin", flags->admin, "The proxy's admin address HOST:PORT")
      ->capture_default_str();
  sub->add_option("-o,--output", flags->output, "short (tables) or json")->capture_default_str();
  auto& f = flags->filter;
  sub->add_option("--fqdn", f.fqdn, "cluster: only this service FQDN");
  sub->add_option("--port", f.port, "cluster, listener: only this port");
  sub->add_option("--subset", f.subset, "cluster: only this subset");
  sub->add_option("--direction", f.direction, "cluster: inbound or outbound");
  sub->add_option("--address", f.address, "listener: only this address");
  sub->add_option("--name", f.name, "route: only this route table");
  sub->add_option("--cluster", f.cluster, "endpoint: only this cluster");
  sub->add_option("--status", f.status, "endpoint: healthy or unhealthy");
  sub->callback([&ctx, flags] { ctx.exitCode = run(*flags); });
}

}  // namespace

MESH_COMMAND("proxy-config", addProxyConfig);

}  // namespace mesh::cmd
