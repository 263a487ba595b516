// mesh: one binary, many modes (proxy, pilot, ca, up, ...). See docs/ and `mesh --help`.
#include "cmd/command.h"

#include <csignal>

int main(int argc, char** argv) {
  // A peer closing a socket must not kill the process; writes report EPIPE instead.
  std::signal(SIGPIPE, SIG_IGN);

  CLI::App app{"mesh: a service mesh in one binary (sidecar proxy, control plane, CA)", "mesh"};
  app.require_subcommand(1);
  app.fallthrough(false);

  mesh::cmd::Context ctx;
  mesh::cmd::addCommands(app, ctx);

  CLI11_PARSE(app, argc, argv);
  return ctx.exitCode;
}
