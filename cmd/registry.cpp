// The list of mesh's modes, in the order --help shows them, and the registry that the
// command files fill in.
#include <cstdio>
#include <iterator>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cmd/command.h"

namespace mesh::cmd {

namespace {

struct Mode {
  const char* name;
  const char* description;  // shown for a mode this build does not have
};

const std::vector<Mode> kModes = {
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
    {"version", "Print the version of mesh and of its libraries"},
};

std::map<std::string, AddCommand>& registry() {
  static std::map<std::string, AddCommand> commands;
  return commands;
}

void addUnavailable(CLI::App& app, Context& ctx, const Mode& mode) {
  auto* sub = app.add_subcommand(mode.name, mode.description);
  sub->allow_extras();
  sub->callback([&ctx, name = std::string(mode.name)] {
    std::fprintf(stderr, "mesh %s: this mode is not available in this build yet\n",
                 name.c_str());
    ctx.exitCode = 2;
  });
}

}  // namespace

CommandRegistration::CommandRegistration(const char* name, AddCommand add) {
  registry()[name] = add;
}

void addCommands(CLI::App& app, Context& ctx, std::string_view only) {
  // Every option of every mode is a heap object with its names, help text and validators,
  // kept for the whole run: some 100 kB that each of mesh up's hundred processes would carry
  // for modes it never runs. So a known mode gets its own flags only; anything else (no mode,
  // --help, a mistyped name) gets the full tree, for the list of modes and the error.
  if (auto found = registry().find(std::string(only)); found != registry().end()) {
    found->second(app, ctx);
    // ...with its own subcommands ("proxy iptables"), registered after it by name.
    for (auto it = std::next(found); it != registry().end() &&
                                     it->first.rfind(std::string(only) + " ", 0) == 0;
         ++it) {
      it->second(app, ctx);
    }
    return;
  }
  auto remaining = registry();
  for (const Mode& mode : kModes) {
    auto found = remaining.find(mode.name);
    if (found == remaining.end()) {
      addUnavailable(app, ctx, mode);
      continue;
    }
    found->second(app, ctx);
    remaining.erase(found);
  }
  // Commands outside the main list (diagnostics, helpers) come last, by name.
  for (const auto& [name, add] : remaining) add(app, ctx);
}

}  // namespace mesh::cmd
