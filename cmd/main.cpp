// mesh: one binary, many modes (proxy, pilot, ca, up, ...). See docs/ and `mesh --help`.
#include "cmd/command.h"

#include <csignal>
#include <cstdio>
#include <string_view>

#include "core/base/heap.h"

int main(int argc, char** argv) {
#if defined(__x86_64__)
  // llhttp is built for SSE4.2 (scripts/deps/meson.build): say so rather than die of SIGILL.
  if (!__builtin_cpu_supports("sse4.2")) {
    std::fputs("mesh: this build needs an x86-64 CPU with SSE4.2 (x86-64-v2)\n", stderr);
    return 1;
  }
#endif
  // Before anything allocates: see heap.h (mesh up runs a hundred of these processes).
  mesh::core::configureHeap();
  // A peer closing a socket must not kill the process; writes report EPIPE instead.
  std::signal(SIGPIPE, SIG_IGN);

  mesh::cmd::Context ctx;
  {
    CLI::App app{"mesh: a service mesh in one binary (sidecar proxy, control plane, CA)", "mesh"};
    app.require_subcommand(1);
    app.fallthrough(false);
    // Only the flags of the mode being run (see addCommands).
    mesh::cmd::addCommands(app, ctx, argc > 1 ? std::string_view(argv[1]) : std::string_view());
    CLI11_PARSE(app, argc, argv);
  }
  // The parser is gone; what a server mode parsed lives on in its `serve` (command.h).
  if (ctx.serve) return ctx.serve();
  return ctx.exitCode;
}
