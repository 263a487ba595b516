// `mesh resolve NAME`: resolve a host name the way every mesh component does (c-ares,
// reading /etc/hosts and /etc/resolv.conf itself), so a static binary works anywhere.
#include <cstdio>
#include <string>

#include "cmd/command.h"
#include "core/loop/resolver.h"

namespace mesh::cmd {

namespace {

void addResolve(CLI::App& app, Context& ctx) {
  auto* sub = app.add_subcommand("resolve", "Resolve a host name as mesh's components do");
  sub->group("Diagnostics");
  auto name = std::make_shared<std::string>();
  sub->add_option("name", *name, "Host name")->required();
  sub->callback([&ctx, name] {
    auto addresses = core::resolveBlocking(*name);
    if (!addresses.ok()) {
      std::fprintf(stderr, "mesh resolve: %s\n", addresses.status().toString().c_str());
      ctx.exitCode = 1;
      return;
    }
    for (const auto& address : addresses.value()) std::printf("%s\n", address.c_str());
    ctx.exitCode = 0;
  });
}

}  // namespace

MESH_COMMAND("resolve", addResolve);

}  // namespace mesh::cmd
