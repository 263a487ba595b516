// Each subcommand lives in its own file and registers itself on the top-level app.
// A command's callback stores its process exit status in `exitCode`; commands only parse
// flags and wire library components together, all logic lives in core/proxy/pilot/ca.
#pragma once

#include <CLI/CLI.hpp>

namespace mesh::cmd {

struct Context {
  int exitCode = 0;
};

void addVersion(CLI::App& app, Context& ctx);
void addResolve(CLI::App& app, Context& ctx);
// Modes whose implementation has not landed yet: they explain that and exit non-zero.
void addPendingModes(CLI::App& app, Context& ctx);

}  // namespace mesh::cmd
