// Modes that are part of mesh's interface but whose implementation has not landed yet.
// They are listed in --help so the interface is visible, and they fail loudly when run.
#include <cstdio>
#include <string>
#include <vector>

#include "cmd/command.h"

namespace mesh::cmd {

namespace {
struct Mode {
  const char* name;
  const char* description;
};

const std::vector<Mode> kPendingModes = {
    {"proxy", "Run the sidecar proxy (or, with --gateway, an ingress/egress gateway)"},
    {"pilot", "Run the control plane: config store, service registry, push to proxies"},
    {"ca", "Run the certificate authority that signs workload certificates"},
    {"up", "Run a whole mesh on this machine (CA, pilot, workloads, sidecars, ingress)"},
    {"install", "Render (and apply) the Kubernetes manifests"},
    {"inject", "Add the sidecar to Kubernetes workload YAML"},
    {"analyze", "Check Istio and Kubernetes config files for mistakes"},
    {"proxy-status", "Show which proxies are connected to pilot and whether they are in sync"},
    {"proxy-config", "Show one proxy's live configuration"},
    {"echo", "A small demo app that answers with its identity and can call others"},
};
}  // namespace

void addPendingModes(CLI::App& app, Context& ctx) {
  for (const Mode& mode : kPendingModes) {
    auto* sub = app.add_subcommand(mode.name, mode.description);
    sub->allow_extras();
    sub->callback([&ctx, name = std::string(mode.name)] {
      std::fprintf(stderr, "mesh %s: this mode is not available in this build yet\n",
                   name.c_str());
      ctx.exitCode = 2;
    });
  }
}

}  // namespace mesh::cmd
