// `mesh ca`: the certificate authority (serve by default), and its tools:
//   mesh ca [--listen ADDR] [--monitoring ADDR] [--data-dir DIR] [--trust-domain TD] ...
//   mesh ca token create --namespace NS --service-account SA [--ttl 1h]
//   mesh ca csr --ca ADDR --ca-root FILE --token T --out DIR
//   mesh ca rotate-root begin|activate|finish|status
// Flags and wiring only; see ca/ and core/identity/ for what they do, docs/ca.md for how.
#include <cstdio>
#include <memory>
#include <string>

#include "ca/authority.h"
#include "ca/ca_metrics.h"
#include "ca/root_store.h"
#include "ca/rotation.h"
#include "ca/server.h"
#include "ca/signer.h"
#include "ca/token.h"
#include "cmd/command.h"
#include "core/admin/admin_server.h"
#include "core/base/log.h"
#include "core/identity/ca_client.h"
#include "core/loop/loop.h"
#include "core/loop/resolver.h"
#include "core/loop/signals.h"
#include "core/metrics/registry.h"

namespace mesh::cmd {
namespace {

using core::Result;

constexpr const char* kDefaultDataDir = "/var/lib/mesh/ca";

// "90s", "10m", "24h", "365d", or a bare number of seconds.
Result<std::chrono::seconds> parseDuration(const std::string& text) {
  size_t used = 0;
  long long n = 0;
  try {
    n = std::stoll(text, &used);
  } catch (const std::exception&) {
    return core::error(core::Code::invalid, "not a duration: '" + text + "'");
  }
  std::string unit = text.substr(used);
  long long scale = unit.empty() || unit == "s" ? 1
                    : unit == "m"               ? 60
                    : unit == "h"               ? 3600
                    : unit == "d"               ? 86400
                                                : 0;
  if (scale == 0 || n < 0)
    return core::error(core::Code::invalid, "not a duration: '" + text + "'");
  return std::chrono::seconds(n * scale);
}

// "host:port" or "[v6]:port"; a host name is resolved (c-ares, no NSS).
Result<core::SocketAddress> parseAddress(const std::string& text) {
  if (auto numeric = core::SocketAddress::parseHostPort(text)) return numeric;
  size_t colon = text.rfind(':');
  std::string port = colon == std::string::npos ? "" : text.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535)
    return core::error(core::Code::invalid, "expected HOST:PORT, got '" + text + "'");
  auto ips = core::resolveBlocking(text.substr(0, colon));
  if (!ips) return ips.status();
  return core::SocketAddress::parse(ips->front(), static_cast<std::uint16_t>(std::stoul(port)));
}

int fail(const char* what, const core::Status& status) {
  std::fprintf(stderr, "mesh ca%s: %s\n", what, status.toString().c_str());
  return 1;
}

struct ServeFlags {
  std::string listen = "0.0.0.0:15011";
  std::string monitoring = "0.0.0.0:15014";
  std::string defaultTtl = "24h";
  std::string maxTtl = "90d";
  std::string rootTtl = "3650d";
  int reloadMs = 2000;
  ca::RootSource source;
};

int serve(const ServeFlags& flags) {
  auto listen = parseAddress(flags.listen);
  if (!listen) return fail("", listen.status());
  auto monitoring = parseAddress(flags.monitoring);
  if (!monitoring) return fail("", monitoring.status());
  auto defaultTtl = parseDuration(flags.defaultTtl);
  auto maxTtl = parseDuration(flags.maxTtl);
  auto rootTtl = parseDuration(flags.rootTtl);
  if (!defaultTtl || !maxTtl || !rootTtl)
    return fail("", core::error(core::Code::invalid, "bad --default-ttl, --max-ttl or --root-ttl"));
  ca::RootSource source = flags.source;
  source.rootTtl = *rootTtl;
  core::Clock& clock = core::Clock::real();
  if (auto s = ca::initDataDir(source, clock); !s) return fail("", s);
  auto tokenKey = ca::loadOrCreateTokenKey(source.dataDir);
  if (!tokenKey) return fail("", tokenKey.status());

  core::Loop loop;
  core::metrics::Registry registry;
  ca::CaMetrics metrics(registry);
  ca::TokenSigner tokens(*tokenKey);
  ca::Signer signer({*defaultTtl, *maxTtl}, clock);
  ca::Authority authority(source.trustDomain, signer, tokens, metrics, clock);
  ca::CaServerOptions options;
  options.listen = *listen;
  options.reloadInterval = std::chrono::milliseconds(flags.reloadMs);
  ca::CaServer server(
      loop, authority, [source, &clock] { return ca::loadIssuer(source, clock); }, options, clock);
  if (auto s = server.start(); !s) return fail("", s);
  core::AdminServer admin(loop);
  admin.route("/metrics", [&](const core::AdminRequest&) {
    metrics.refresh(clock);
    return core::AdminResponse{200, registry.render(),
                               std::string(core::metrics::Registry::kContentType)};
  });
  admin.route("/ready", [](const core::AdminRequest&) { return core::AdminResponse{200, "ok\n"}; });
  if (auto s = admin.listen(*monitoring); !s) return fail("", s);

  // Tests and scripts read the ports actually bound (port 0 picks a free one).
  std::printf("listening %s\nmonitoring %s\n", listen->withPort(server.port()).toString().c_str(),
              monitoring->withPort(admin.port()).toString().c_str());
  std::fflush(stdout);

  core::Signal sigint(loop), sigterm(loop);
  auto stop = [&](int) {
    LOG_INFO("ca", "stopping");
    server.stop();
    admin.close();
    sigint.stop();
    sigterm.stop();
  };
  (void)sigint.start(SIGINT, stop);
  (void)sigterm.start(SIGTERM, stop);
  loop.run();
  return 0;
}

void addServeFlags(CLI::App& sub, ServeFlags& f) {
  sub.add_option("--listen", f.listen, "Signing endpoint address (port 0: any free port)")
      ->capture_default_str();
  sub.add_option("--monitoring", f.monitoring, "Monitoring address for /metrics")
      ->capture_default_str();
  sub.add_option("--default-ttl", f.defaultTtl, "Workload certificate lifetime when none is asked")
      ->capture_default_str();
  sub.add_option("--max-ttl", f.maxTtl, "Longest workload certificate lifetime granted")
      ->capture_default_str();
  sub.add_option("--root-ttl", f.rootTtl, "Lifetime of a generated root")->capture_default_str();
  sub.add_option("--reload-interval-ms", f.reloadMs, "How often the CA files are re-read")
      ->capture_default_str();
  sub.add_option("--root-cert", f.source.rootCert,
                 "Plugged-in root certificate (with --root-key), or the root(s) above --ca-cert");
  sub.add_option("--root-key", f.source.rootKey, "Plugged-in root key");
  sub.add_option("--ca-cert", f.source.caCert, "Plugged-in intermediate CA certificate");
  sub.add_option("--ca-key", f.source.caKey, "Plugged-in intermediate CA key");
  sub.add_option("--cert-chain", f.source.certChain, "Chain from --ca-cert up to the root");
}

void addTokenCommand(CLI::App& ca, Context& ctx, std::shared_ptr<ServeFlags> flags) {
  auto* token = ca.add_subcommand("token", "Bootstrap tokens");
  token->require_subcommand(1);
  auto* create = token->add_subcommand("create", "Print a bootstrap token for one identity");
  struct Args {
    std::string ns, sa, ttl = "1h";
  };
  auto args = std::make_shared<Args>();
  create->add_option("--namespace", args->ns, "Namespace of the identity")->required();
  create->add_option("--service-account", args->sa, "Service account of the identity")->required();
  create->add_option("--ttl", args->ttl, "How long the token is valid")->capture_default_str();
  create->callback([&ctx, args, flags] {
    auto ttl = parseDuration(args->ttl);
    if (!ttl) {
      ctx.exitCode = fail(" token create", ttl.status());
      return;
    }
    auto id = core::SpiffeId::make(flags->source.trustDomain, args->ns, args->sa);
    if (!id) {
      ctx.exitCode = fail(" token create", id.status());
      return;
    }
    auto key = ca::loadOrCreateTokenKey(flags->source.dataDir);
    if (!key) {
      ctx.exitCode = fail(" token create", key.status());
      return;
    }
    auto token = ca::TokenSigner(*key).create(*id, *ttl, core::Clock::real());
    if (!token) {
      ctx.exitCode = fail(" token create", token.status());
      return;
    }
    std::printf("%s\n", token->c_str());
    ctx.exitCode = 0;
  });
}

void addCsrCommand(CLI::App& ca, Context& ctx) {
  auto* csr = ca.add_subcommand("csr",
                                "Get a certificate from the CA and write key.pem, "
                                "cert-chain.pem and root-cert.pem");
  struct Args {
    std::string ca, caRoot, token, out, ttl = "0";
  };
  auto args = std::make_shared<Args>();
  csr->add_option("--ca", args->ca, "CA address HOST:PORT")->required();
  csr->add_option("--ca-root", args->caRoot, "Root certificate(s) to verify the CA with")
      ->required();
  csr->add_option("--token", args->token, "Bootstrap token (mesh ca token create)")->required();
  csr->add_option("--out", args->out, "Directory for the files")->required();
  csr->add_option("--ttl", args->ttl, "Certificate lifetime to ask for (0: the CA's default)");
  csr->callback([&ctx, args] {
    auto address = parseAddress(args->ca);
    auto roots = core::loadCertificatesFile(args->caRoot);
    auto id = core::peekTokenIdentity(args->token);
    auto ttl = parseDuration(args->ttl);
    for (const core::Status* s :
         {&address.status(), &roots.status(), &id.status(), &ttl.status()}) {
      if (!s->ok()) {
        ctx.exitCode = fail(" csr", *s);
        return;
      }
    }
    auto issued = core::requestCertificateBlocking(core::CsrRequest{
        .ca = *address, .caRoots = *roots, .id = *id, .token = args->token, .ttl = *ttl});
    if (!issued) {
      ctx.exitCode = fail(" csr", issued.status());
      return;
    }
    if (auto s = core::writeIdentityFiles(args->out, *issued); !s) {
      ctx.exitCode = fail(" csr", s);
      return;
    }
    std::printf("%s expires %lld\n", issued->id.toString().c_str(),
                static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(
                                           issued->notAfter.time_since_epoch())
                                           .count()));
    ctx.exitCode = 0;
  });
}

void addRotateCommand(CLI::App& ca, Context& ctx, std::shared_ptr<ServeFlags> flags) {
  auto* rotate = ca.add_subcommand("rotate-root", "Rotate the root with an overlap (docs/ca.md)");
  rotate->require_subcommand(1);
  auto step = [&ctx, flags](const char* name, auto run) {
    return [&ctx, flags, name, run] {
      core::Status s = run(*flags);
      if (!s) {
        ctx.exitCode = fail((std::string(" rotate-root ") + name).c_str(), s);
        return;
      }
      auto status = ca::describeRoots(flags->source.dataDir, core::Clock::real());
      if (status) std::printf("%s", status->c_str());
      ctx.exitCode = 0;
    };
  };
  rotate->add_subcommand("begin", "Add a new root to the trust bundle; the old one still signs")
      ->callback(step("begin", [](ServeFlags& f) {
        ca::RootSource source = f.source;
        auto ttl = parseDuration(f.rootTtl);
        if (!ttl) return ttl.status();
        source.rootTtl = *ttl;
        return ca::beginRootRotation(source, core::Clock::real());
      }));
  rotate->add_subcommand("activate", "Sign with the new root; keep trusting the old one")
      ->callback(step("activate",
                      [](ServeFlags& f) { return ca::activateRootRotation(f.source.dataDir); }));
  rotate->add_subcommand("finish", "Remove the old root from the trust bundle")
      ->callback(
          step("finish", [](ServeFlags& f) { return ca::finishRootRotation(f.source.dataDir); }));
  rotate->add_subcommand("status", "Show the rotation phase and the trusted roots")
      ->callback(step("status", [](ServeFlags&) { return core::Status{}; }));
}

void addCa(CLI::App& app, Context& ctx) {
  auto* ca =
      app.add_subcommand("ca", "Run the certificate authority that signs workload certificates");
  auto flags = std::make_shared<ServeFlags>();
  flags->source.dataDir = kDefaultDataDir;
  ca->add_option("--data-dir", flags->source.dataDir, "Where the CA keeps its root and keys")
      ->capture_default_str();
  ca->add_option("--trust-domain", flags->source.trustDomain, "SPIFFE trust domain")
      ->capture_default_str();
  addServeFlags(*ca, *flags);
  // Options given before a tool's name (mesh ca --data-dir D token create) reach it too.
  ca->fallthrough(true);
  addTokenCommand(*ca, ctx, flags);
  addCsrCommand(*ca, ctx);
  addRotateCommand(*ca, ctx, flags);
  ca->callback([&ctx, ca, flags] {
    if (ca->get_subcommands().empty()) ctx.serve = [flags] { return serve(*flags); };
  });
}

}  // namespace

MESH_COMMAND("ca", addCa);

}  // namespace mesh::cmd
