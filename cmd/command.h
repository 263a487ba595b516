// Each subcommand lives in its own file and registers itself with MESH_COMMAND, so adding a
// mode means adding one file (and listing it in cmd/meson.build). A command's callback stores
// the process exit status in `ctx.exitCode`. Commands only parse flags and wire library
// components together; all logic lives in core/, proxy/, pilot/ and ca/.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string_view>

namespace mesh::cmd {

struct Context {
  int exitCode = 0;
  // A mode that runs for long (a server, mesh up) sets this rather than running inside its
  // flag callback: main() then frees the flag parser, some 40 KiB a process would otherwise
  // keep for its whole life (mesh up runs a hundred processes), before calling it. Its
  // result is the exit status.
  std::function<int()> serve;
};

using AddCommand = void (*)(CLI::App& app, Context& ctx);

// Records `add` under `name` at static-initialisation time; main() calls it in the order of
// the modes in --help.
struct CommandRegistration {
  CommandRegistration(const char* name, AddCommand add);
};

#define MESH_COMMAND(name, add) \
  static const ::mesh::cmd::CommandRegistration meshCommandRegistration{name, add}

// Adds every registered command to `app`; modes of mesh's interface that no file registers
// yet are listed too and say plainly, when run, that this build does not have them. With
// `only` naming a registered command, adds that one alone.
void addCommands(CLI::App& app, Context& ctx, std::string_view only = {});

}  // namespace mesh::cmd
