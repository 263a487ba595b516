// `mesh up [DIR]`: a whole mesh on this machine. Flags only; the launcher is
// cmd/up/local_mesh.h and docs/up.md says what it runs and where.
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <memory>
#include <string>

#include "cmd/command.h"
#include "cmd/up/local_mesh.h"
#include "core/loop/loop.h"

extern char** environ;

namespace mesh::cmd {

namespace {

struct UpFlags {
  std::string dir;
  std::string stateDir;
  int ingressPort = 8080;
  bool noIngress = false;
  int graceMs = 5000;
  std::string trustDomain = "cluster.local";
  std::string zipkinAddress;
  std::string traceSampling;
  bool netns = false;
};

// The running binary, so children are this exact build whatever PATH says.
std::string selfExecutable() {
  char path[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) return "mesh";
  return std::string(path, static_cast<size_t>(n));
}

void addUp(CLI::App& app, Context& ctx) {
  auto* sub = app.add_subcommand(
      "up", "Run a whole mesh on this machine (CA, pilot, workloads, sidecars, ingress)");
  auto f = std::make_shared<UpFlags>();
  sub->add_option("DIR", f->dir,
                  "Kubernetes Deployments and Services and Istio resources (YAML); "
                  "without it, the built-in Bookinfo demo");
  sub->add_option("--state-dir", f->stateDir,
                  "Where the CA's keys, the config given to pilot, tokens and logs go "
                  "(default: a new directory under $TMPDIR, removed on exit)");
  sub->add_option("--ingress-port", f->ingressPort,
                  "Local port for the ingress gateway's first Gateway port (0 picks a free one)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  sub->add_flag("--no-ingress", f->noIngress, "Do not run the ingress gateway");
  sub->add_option("--grace-ms", f->graceMs, "On stop, time between SIGTERM and SIGKILL")
      ->capture_default_str()
      ->check(CLI::Range(0, 600000));
  sub->add_option("--trust-domain", f->trustDomain, "SPIFFE trust domain")->capture_default_str();
  sub->add_option("--zipkin-address", f->zipkinAddress,
                  "Every proxy sends its spans here, host:port (Zipkin v2 JSON; Jaeger takes it)");
  sub->add_option("--trace-sampling", f->traceSampling,
                  "Percentage of new traces the proxies sample (default: the proxy's, 1)");
  sub->add_flag("--netns", f->netns,
                "Each pod in its own network namespace with transparent capture (iptables), "
                "like a pod in a cluster; needs root");
  sub->callback([&ctx, f] {
    up::UpOptions options;
    options.dir = f->dir;
    options.stateDir = f->stateDir;
    options.self = selfExecutable();
    options.ingressPort = static_cast<std::uint32_t>(f->ingressPort);
    options.ingress = !f->noIngress;
    options.grace = std::chrono::milliseconds(f->graceMs);
    options.trustDomain = f->trustDomain;
    options.environment = environ;
    options.netns = f->netns;
    if (!f->zipkinAddress.empty()) options.proxyFlags = {"--zipkin-address", f->zipkinAddress};
    if (!f->traceSampling.empty()) {
      options.proxyFlags.push_back("--trace-sampling");
      options.proxyFlags.push_back(f->traceSampling);
    }
    ctx.serve = [options = std::move(options)]() mutable {
      core::Loop loop;
      up::LocalMesh mesh(loop, std::move(options));
      return mesh.run();
    };
  });
}

}  // namespace

MESH_COMMAND("up", addUp);

}  // namespace mesh::cmd
