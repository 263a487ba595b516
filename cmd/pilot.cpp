// `mesh pilot`: the control plane. Flags and wiring only: the config source, the push loop,
// the proxy-facing server and the debug pages live in pilot/; docs/pilot.md says how to run it.
//
// Pilot's own serving certificate comes from the CA like any workload's (CertificateManager,
// renewed at half life). With --ca-data-dir the CA runs inside this process, the way istiod
// holds both: the CA library (ca/) is wired here, since pilot/ and ca/ never include each other,
// and pilot asks it for a certificate over loopback exactly as a remote workload would.
#include <malloc.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "ca/authority.h"
#include "ca/ca_metrics.h"
#include "ca/root_store.h"
#include "ca/server.h"
#include "ca/signer.h"
#include "ca/token.h"
#include "cmd/command.h"
#include "core/admin/admin_server.h"
#include "core/base/log.h"
#include "core/config/duration.h"
#include "core/identity/cert_manager.h"
#include "core/loop/heap_trimmer.h"
#include "core/loop/loop.h"
#include "core/loop/resolver.h"
#include "core/loop/signals.h"
#include "core/metrics/registry.h"
#include "pilot/debug/debug_pages.h"
#include "pilot/push/pusher.h"
#include "pilot/server/discovery_server.h"
#include "pilot/source/file_source.h"

namespace mesh::cmd {
namespace {

using core::Result;
using core::Status;

struct PilotFlags {
  std::string configDir;
  std::string listen = "0.0.0.0:15012";
  std::string monitor = "0.0.0.0:15014";
  std::string debounceAfter = "100ms";
  std::string debounceMax = "10s";
  std::string keepalive = "15s";
  std::string endpointGrace = "10s";
  std::string trustDomain = "cluster.local";
  std::string rootNamespace = "istio-system";
  std::string outboundPolicy = "ALLOW_ANY";
  std::string identityNamespace = "mesh-system";
  std::string serviceAccount = "mesh-pilot";
  // The CA: in this process, or another one reached with a bootstrap token.
  std::string caDataDir;
  std::string caListen = "0.0.0.0:15011";
  std::string ca;
  std::string caRoot;
  std::string token;
  std::string tokenFile;
  std::string certTtl = "24h";
};

int fail(const Status& status) {
  std::fprintf(stderr, "mesh pilot: %s\n", status.toString().c_str());
  return 1;
}

Result<core::SocketAddress> parseAddress(const std::string& text) {
  if (auto numeric = core::SocketAddress::parseHostPort(text)) return numeric;
  size_t colon = text.rfind(':');
  std::string port = colon == std::string::npos ? "" : text.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port) > 65535) {
    return core::error(core::Code::invalid, "expected HOST:PORT, got '" + text + "'");
  }
  auto ips = core::resolveBlocking(text.substr(0, colon));
  if (!ips) return ips.status();
  return core::SocketAddress::parse(ips->front(), static_cast<std::uint16_t>(std::stoul(port)));
}

Result<std::chrono::milliseconds> duration(const char* flag, const std::string& text) {
  auto d = core::config::parseDuration(text);
  if (!d) return core::error(core::Code::invalid, std::string(flag) + ": " + d.status().message());
  return *d;
}

// The CA inside pilot's process: its server on --ca-listen, and a token for pilot itself.
struct InProcessCa {
  ca::RootSource source;
  core::metrics::Registry& registry;
  std::unique_ptr<ca::CaMetrics> metrics;
  std::unique_ptr<ca::TokenSigner> tokens;
  std::unique_ptr<ca::Signer> signer;
  std::unique_ptr<ca::Authority> authority;
  std::unique_ptr<ca::CaServer> server;

  Status start(core::Loop& loop, const core::SocketAddress& listen) {
    core::Clock& clock = core::Clock::real();
    if (Status s = ca::initDataDir(source, clock); !s) return s;
    auto key = ca::loadOrCreateTokenKey(source.dataDir);
    if (!key) return key.status();
    metrics = std::make_unique<ca::CaMetrics>(registry);
    tokens = std::make_unique<ca::TokenSigner>(*key);
    signer = std::make_unique<ca::Signer>(ca::SignerOptions{}, clock);
    authority = std::make_unique<ca::Authority>(source.trustDomain, *signer, *tokens, *metrics, clock);
    ca::CaServerOptions options;
    options.listen = listen;
    auto src = source;
    server = std::make_unique<ca::CaServer>(loop, *authority,
                                            [src, &clock] { return ca::loadIssuer(src, clock); },
                                            options, clock);
    return server->start();
  }
  Result<std::string> token(const core::SpiffeId& id) const {
    return tokens->create(id, std::chrono::hours(1), core::Clock::real());
  }
  core::CertificateList roots() const { return authority->issuer()->bundle; }
};

int runPilot(const PilotFlags& flags) {
  // Snapshot frames are megabytes and short-lived. glibc would raise its mmap threshold after
  // the first one is freed and then serve the next ones from the heap, where they fragment
  // and stay resident; a fixed threshold keeps every large frame in its own mapping that goes
  // back to the system when the write completes.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  auto listen = parseAddress(flags.listen);
  if (!listen) return fail(listen.status());
  auto monitor = parseAddress(flags.monitor);
  if (!monitor) return fail(monitor.status());
  auto after = duration("--debounce-after", flags.debounceAfter);
  auto max = duration("--debounce-max", flags.debounceMax);
  auto keepalive = duration("--keepalive", flags.keepalive);
  auto grace = duration("--endpoint-grace", flags.endpointGrace);
  auto ttl = duration("--cert-ttl", flags.certTtl);
  for (const auto* d : {&after, &max, &keepalive, &grace, &ttl}) {
    if (!d->ok()) return fail(d->status());
  }
  if (keepalive->count() == 0) return fail(core::error(core::Code::invalid, "--keepalive must be positive"));
  if (flags.outboundPolicy != "ALLOW_ANY" && flags.outboundPolicy != "REGISTRY_ONLY") {
    return fail(core::error(core::Code::invalid, "--outbound-traffic-policy: ALLOW_ANY or REGISTRY_ONLY"));
  }
  auto id = core::SpiffeId::make(flags.trustDomain, flags.identityNamespace, flags.serviceAccount);
  if (!id) return fail(id.status());

  core::Loop loop;
  core::metrics::Registry registry;
  pilot::PushMetrics metrics(registry);

  // Where the serving certificate comes from.
  core::CertificateManagerOptions cert{.id = *id};
  cert.ttl = std::chrono::duration_cast<std::chrono::seconds>(*ttl);
  std::unique_ptr<InProcessCa> inProcess;
  if (!flags.caDataDir.empty()) {
    auto caListen = parseAddress(flags.caListen);
    if (!caListen) return fail(caListen.status());
    inProcess = std::make_unique<InProcessCa>(InProcessCa{{}, registry, {}, {}, {}, {}, {}});
    inProcess->source.dataDir = flags.caDataDir;
    inProcess->source.trustDomain = flags.trustDomain;
    if (Status s = inProcess->start(loop, *caListen); !s) return fail(s);
    auto token = inProcess->token(*id);
    if (!token) return fail(token.status());
    // Over loopback when the CA listens on every address; else where it actually listens.
    std::string caIp = caListen->ip();
    bool wildcard = caIp == "0.0.0.0" || caIp == "::";
    cert.ca = wildcard ? (caListen->isV6() ? core::SocketAddress::loopbackV6(inProcess->server->port())
                                           : core::SocketAddress::loopbackV4(inProcess->server->port()))
                       : caListen->withPort(inProcess->server->port());
    cert.caRoots = inProcess->roots();
    cert.token = *token;
    std::printf("ca %s\n", caListen->withPort(inProcess->server->port()).toString().c_str());
  } else {
    if (flags.ca.empty() || flags.caRoot.empty() || (flags.token.empty() && flags.tokenFile.empty())) {
      return fail(core::error(core::Code::invalid,
                              "give --ca-data-dir, or --ca, --ca-root and --token/--token-file"));
    }
    auto ca = parseAddress(flags.ca);
    if (!ca) return fail(ca.status());
    auto roots = core::loadCertificatesFile(flags.caRoot);
    if (!roots) return fail(roots.status());
    std::string token = flags.token;
    if (token.empty()) {
      auto text = core::readFileBounded(flags.tokenFile, 64 * 1024);
      if (!text) return fail(text.status());
      token = *text;
      while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
    }
    cert.ca = *ca;
    cert.caRoots = *roots;
    cert.token = token;
  }
  core::CertificateManager certificates(loop, core::Clock::real(), cert);

  pilot::PusherOptions pushOptions;
  pushOptions.mesh.trustDomain = flags.trustDomain;
  pushOptions.mesh.rootNamespace = flags.rootNamespace;
  pushOptions.mesh.outboundTrafficPolicy = flags.outboundPolicy;
  pushOptions.endpointGrace = *grace;
  pilot::Pusher pusher(loop, metrics, pushOptions);
  pilot::FileSource source(loop, {flags.configDir, *after, *max},
                           [&](pilot::ConfigSetPtr set, std::uint64_t changedAt) {
                             pusher.setConfig(std::move(set), changedAt);
                           });
  if (Status s = source.start(); !s) return fail(s);

  core::AdminServer admin(loop);
  pilot::installDebugPages(admin, pusher, registry, "mesh-pilot");
  if (Status s = admin.listen(*monitor); !s) return fail(s);

  // The server starts once the first certificate is in; later ones are swapped in by the
  // manager without touching open connections.
  std::unique_ptr<pilot::DiscoveryServer> server;
  pilot::DiscoveryServerOptions serverOptions;
  serverOptions.listen = *listen;
  serverOptions.keepalive = *keepalive;
  int exitCode = 0;
  certificates.setListener([&](const core::IssuedIdentity& issued) {
    if (server) return;
    core::TlsOptions tls;
    tls.role = core::TlsRole::server;
    tls.chain = issued.chain;
    tls.key = issued.key;
    tls.trustBundle = issued.trustBundle;
    tls.peer.trustDomain = flags.trustDomain;
    auto context = core::TlsContext::create(std::move(tls));
    Status s = context.ok() ? certificates.attach(*context) : context.status();
    if (s.ok()) {
      server = std::make_unique<pilot::DiscoveryServer>(loop, *context, pusher, metrics, serverOptions);
      s = server->start();
    }
    if (!s.ok()) {
      exitCode = fail(s);
      loop.stop();
      return;
    }
    // Tests and scripts read the ports actually bound (port 0 picks a free one).
    std::printf("listening %s\nmonitoring %s\n", listen->withPort(server->port()).toString().c_str(),
                monitor->withPort(admin.port()).toString().c_str());
    std::fflush(stdout);
  });
  certificates.start();

  core::Signal sigint(loop), sigterm(loop);
  auto stop = [&](int) {
    LOG_INFO("pilot", "stopping");
    loop.stop();
  };
  (void)sigint.start(SIGINT, stop);
  (void)sigterm.start(SIGTERM, stop);
  // A push round builds every proxy's snapshot and frees its JSON once sent: heap.h.
  core::HeapTrimmer trimmer(loop);
  trimmer.every(std::chrono::seconds(2));
  std::fflush(stdout);
  loop.run();
  if (server) server->stop();
  admin.close();
  if (inProcess) inProcess->server->stop();
  sigint.stop();
  sigterm.stop();
  return exitCode;
}

void addPilot(CLI::App& app, Context& ctx) {
  auto* sub = app.add_subcommand("pilot", "Run the control plane: config, registry, push to proxies");
  auto f = std::make_shared<PilotFlags>();
  sub->add_option("--config-dir", f->configDir, "Istio/Kubernetes YAML or JSON, searched recursively")
      ->required();
  sub->add_option("--listen", f->listen, "mTLS address proxies connect to (port 0: any)")->capture_default_str();
  sub->add_option("--monitor", f->monitor, "Monitoring address: /metrics and /debug")->capture_default_str();
  sub->add_option("--debounce-after", f->debounceAfter, "Quiet time after a config change before a push")
      ->capture_default_str();
  sub->add_option("--debounce-max", f->debounceMax, "Longest a change waits for the files to go quiet")
      ->capture_default_str();
  sub->add_option("--keepalive", f->keepalive, "Proxies' ping interval; 3 silent ones drop a proxy")
      ->capture_default_str();
  sub->add_option("--endpoint-grace", f->endpointGrace, "How long a gone proxy's endpoint stays")
      ->capture_default_str();
  sub->add_option("--trust-domain", f->trustDomain, "SPIFFE trust domain")->capture_default_str();
  sub->add_option("--root-namespace", f->rootNamespace, "Namespace of mesh-wide config")->capture_default_str();
  sub->add_option("--outbound-traffic-policy", f->outboundPolicy, "ALLOW_ANY or REGISTRY_ONLY")
      ->capture_default_str();
  sub->add_option("--identity-namespace", f->identityNamespace, "Namespace of pilot's own identity")
      ->capture_default_str();
  sub->add_option("--service-account", f->serviceAccount, "Service account of pilot's own identity")
      ->capture_default_str();
  sub->add_option("--ca-data-dir", f->caDataDir, "Run the CA in this process with this data directory");
  sub->add_option("--ca-listen", f->caListen, "In-process CA: signing address")->capture_default_str();
  sub->add_option("--ca", f->ca, "External CA address HOST:PORT");
  sub->add_option("--ca-root", f->caRoot, "External CA: root certificate(s) to trust");
  sub->add_option("--token", f->token, "External CA: bootstrap token for pilot's identity");
  sub->add_option("--token-file", f->tokenFile, "External CA: file holding the bootstrap token");
  sub->add_option("--cert-ttl", f->certTtl, "Lifetime to ask for pilot's certificate")->capture_default_str();
  sub->callback([&ctx, f] { ctx.serve = [f] { return runPilot(*f); }; });
}

}  // namespace

MESH_COMMAND("pilot", addPilot);

}  // namespace mesh::cmd
