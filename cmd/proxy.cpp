// `mesh proxy --config FILE`: the sidecar, running from a static snapshot file (the same
// JSON model pilot sends). Flags only; the proxy itself is proxy/server/proxy_server.h.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "cmd/command.h"
#include "core/base/log.h"
#include "core/loop/address.h"
#include "proxy/server/proxy_server.h"
#include "proxy/telemetry/workload_name.h"

namespace mesh::cmd {

namespace {

struct ProxyFlags {
  proxy::ServerOptions server;
  std::string logLevel = "info";
  std::string accessLog;
  std::vector<std::string> labels;
  std::vector<uint32_t> ports;
  std::string ns;
  std::vector<std::string> listenerPorts;
  std::vector<std::string> appPorts;
  std::string inboundAddress;
  std::string workload;
  std::string accessLogFormat = "text";
};

// A flag, else the environment variable (Kubernetes' downward API sets these), else "".
std::string flagOrEnv(const std::string& flag, const char* env) {
  if (!flag.empty()) return flag;
  const char* value = std::getenv(env);
  return value ? value : "";
}

void addProxy(CLI::App& app, Context& ctx) {
  auto* sub = app.add_subcommand("proxy", "Run the sidecar proxy");
  auto flags = std::make_shared<ProxyFlags>();
  sub->add_option("--config", flags->server.configPath,
                  "Snapshot file (JSON: listeners, routeTables, clusters); SIGHUP reloads it. "
                  "Without it the config comes from --pilot-address");
  auto& id = flags->server.identity;
  sub->add_option("--ca-address", id.caAddress, "mesh ca, host:port: get and renew the workload certificate");
  sub->add_option("--ca-root", id.caRootFile, "PEM roots that verify the CA's serving certificate");
  sub->add_option("--token", id.token, "Bootstrap token for the first certificate");
  sub->add_option("--token-file", id.tokenFile, "File holding the bootstrap token");
  sub->add_option("--service-account", id.serviceAccount,
                  "This workload's service account (default: $SERVICE_ACCOUNT, else the token's)");
  sub->add_option("--cert-dir", id.outDir, "Keep key.pem, cert-chain.pem, root-cert.pem here");
  auto& xds = flags->server.xds;
  sub->add_option("--pilot-address", xds.pilotAddress, "mesh pilot, host:port: config over mTLS");
  sub->add_option("--node", xds.node, "Node id sent to pilot (default: <sa>-<pid>.<namespace>)");
  sub->add_option("--address", xds.address, "This workload's address, sent to pilot")
      ->capture_default_str();
  sub->add_option("--port", flags->ports, "This workload's ports, sent to pilot (repeatable)");
  sub->add_option("--sidecar-port", xds.sidecarPort,
                  "This proxy's inbound port, sent to pilot so that peers connect to it");
  sub->add_flag("--gateway", xds.gateway,
               "Run as a gateway: serve the Gateway resources that select this proxy's labels "
               "(no inbound or capture listener)");
  xds.gatewayAddress = "0.0.0.0";
  sub->add_option("--gateway-address", xds.gatewayAddress,
                  "The local IP address gateway listeners bind, sent to pilot")
      ->capture_default_str();
  sub->add_option("--listener-port", flags->listenerPorts,
                  "PORT=[IP:]LOCAL: a listener pilot puts on PORT (the capture port 15001, a "
                  "gateway port) binds on LOCAL instead; for several proxies on one host (repeatable)");
  sub->add_option("--inbound-address", flags->inboundAddress,
                  "IP the inbound listener binds instead of pilot's 0.0.0.0 (127.0.0.1 for "
                  "a mesh on one machine)");
  sub->add_option("--app-port", flags->appPorts,
                  "PORT=LOCAL: the app serves workload port PORT on 127.0.0.1:LOCAL (repeatable)");
  sub->add_option("--admin", flags->server.adminAddress,
                  "Admin address, ip:port (port 0 picks one; empty disables)")
      ->capture_default_str();
  sub->add_option("--readiness", flags->server.readinessAddress,
                  "Readiness address serving /healthz/ready (port 0 picks one; empty disables)")
      ->capture_default_str();
  sub->add_option("--concurrency", flags->server.concurrency, "Worker threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  sub->add_option("--drain-seconds", flags->server.drainSeconds,
                  "Grace period for requests in flight on SIGTERM")
      ->capture_default_str();
  sub->add_option("--stats", flags->server.statsAddress,
                  "Prometheus port serving /stats/prometheus, ip:port (port 0 picks one; empty "
                  "disables)")
      ->capture_default_str()
      ->each([flags](const std::string&) { flags->server.statsAddressChosen = true; });
  sub->add_option("--workload", flags->workload,
                  "Workload name in metrics and peer metadata (default: from $POD_NAME without "
                  "its generated suffixes, else the service account)");
  sub->add_option("--trace-sampling", flags->server.proxy.tracing.samplingPercent,
                  "Percent of new traces sampled (a caller's decision is kept)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  sub->add_option("--zipkin-address", flags->server.zipkinAddress,
                  "Zipkin collector, host:port: sampled spans go to POST /api/v2/spans");
  sub->add_option_function<double>(
         "--jwks-refresh-seconds",
         [flags](double s) {
           flags->server.jwks.refresh = std::chrono::milliseconds(static_cast<int64_t>(s * 1000));
         },
         "How often RequestAuthentication's jwksUri keys are fetched again (default 1200, "
         "Istio's 20 minutes)")
      ->check(CLI::Range(0.1, 86400.0));
  sub->add_option("--log-level", flags->logLevel, "trace, debug, info, warn, error, off")
      ->capture_default_str();
  sub->add_option("--access-log", flags->accessLog, "Access log file, '-' for stdout (default: none)");
  sub->add_option("--access-log-format", flags->accessLogFormat,
                  "text (Envoy's default format) or json (Istio's JSON encoding)")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  sub->add_option("--namespace", flags->ns, "This workload's namespace (default: $POD_NAMESPACE)");
  sub->add_option("--label", flags->labels, "This workload's labels, key=value (repeatable)");
  sub->add_option("--request-headers-timeout-ms", flags->server.proxy.requestHeadersTimeoutMs,
                  "Time a client has to send a request head (408 after)")
      ->capture_default_str();
  sub->callback([&ctx, flags, sub] {
    if (!sub->get_subcommands().empty()) return;  // `mesh proxy iptables` (proxy_iptables.cpp)
    core::LogLevel level;
    if (!core::parseLogLevel(flags->logLevel, level)) {
      std::fprintf(stderr, "mesh proxy: unknown --log-level \"%s\"\n", flags->logLevel.c_str());
      ctx.exitCode = 2;
      return;
    }
    core::Log::setLevel(level);
    std::string ns = flagOrEnv(flags->ns, "POD_NAMESPACE");
    flags->server.proxy.ns = ns;
    flags->server.identity.ns = ns;
    flags->server.xds.ns = ns;
    auto& account = flags->server.identity.serviceAccount;
    account = flagOrEnv(account, "SERVICE_ACCOUNT");
    flags->server.xds.serviceAccount = account;
    flags->server.xds.ports = flags->ports;
    if (flags->server.xds.gateway && flags->server.xds.pilotAddress.empty()) {
      std::fprintf(stderr, "mesh proxy: --gateway needs --pilot-address\n");
      ctx.exitCode = 2;
      return;
    }
    if (!core::SocketAddress::parse(flags->server.xds.gatewayAddress, 0).ok()) {
      std::fprintf(stderr, "mesh proxy: --gateway-address wants an IP address, got \"%s\"\n",
                   flags->server.xds.gatewayAddress.c_str());
      ctx.exitCode = 2;
      return;
    }
    for (const auto& text : flags->listenerPorts) {
      if (core::Status s = proxy::parseListenerPort(text, flags->server.localPorts); !s.ok()) {
        std::fprintf(stderr, "mesh proxy: %s\n", s.message().c_str());
        ctx.exitCode = 2;
        return;
      }
    }
    if (!flags->inboundAddress.empty()) {
      auto& ports = flags->server.localPorts;
      if (core::Status s = proxy::parseInboundAddress(flags->inboundAddress, ports); !s.ok()) {
        std::fprintf(stderr, "mesh proxy: %s\n", s.message().c_str());
        ctx.exitCode = 2;
        return;
      }
    }
    for (const auto& text : flags->appPorts) {
      if (core::Status s = proxy::parseAppPort(text, flags->server.localPorts); !s.ok()) {
        std::fprintf(stderr, "mesh proxy: %s\n", s.message().c_str());
        ctx.exitCode = 2;
        return;
      }
    }
    for (const auto& label : flags->labels) {
      auto eq = label.find('=');
      if (eq == std::string::npos || eq == 0) {
        std::fprintf(stderr, "mesh proxy: --label wants key=value, got \"%s\"\n", label.c_str());
        ctx.exitCode = 2;
        return;
      }
      flags->server.proxy.labels[label.substr(0, eq)] = label.substr(eq + 1);
      flags->server.xds.labels[label.substr(0, eq)] = label.substr(eq + 1);
    }
    std::FILE* accessLog = nullptr;
    if (flags->accessLog == "-") {
      accessLog = stdout;
    } else if (!flags->accessLog.empty()) {
      accessLog = std::fopen(flags->accessLog.c_str(), "a");
      if (!accessLog) {
        std::fprintf(stderr, "mesh proxy: cannot open access log %s\n", flags->accessLog.c_str());
        ctx.exitCode = 1;
        return;
      }
    }
    flags->server.proxy.accessLog = accessLog;
    flags->server.proxy.accessLogFormat = flags->accessLogFormat == "json"
                                              ? proxy::telemetry::AccessLogFormat::json
                                              : proxy::telemetry::AccessLogFormat::text;
    std::string workload = flags->workload;
    if (workload.empty()) workload = proxy::telemetry::workloadFromPodName(flagOrEnv("", "POD_NAME"));
    if (workload.empty()) workload = account;
    std::string clusterId = flagOrEnv("", "ISTIO_META_CLUSTER_ID");
    flags->server.proxy.workload = proxy::telemetry::selfMetadata(
        workload, ns, flags->server.proxy.labels, clusterId.empty() ? "Kubernetes" : clusterId);
    ctx.serve = [flags, accessLog] {
      proxy::ProxyServer server(flags->server);
      int code = server.run();
      if (accessLog && accessLog != stdout) std::fclose(accessLog);
      return code;
    };
  });
}

}  // namespace

MESH_COMMAND("proxy", addProxy);

}  // namespace mesh::cmd
