// `mesh version`: our version and those of the libraries compiled into the binary.
#include <llhttp.h>
#include <openssl/base.h>
#include <uv.h>

#include <cstdio>

#include "cmd/command.h"
#include "mesh_version.h"

namespace mesh::cmd {

namespace {

void addVersion(CLI::App& app, Context& ctx) {
  auto* sub = app.add_subcommand("version", "Print the version of mesh and of its libraries");
  sub->callback([&ctx] {
    std::printf("mesh %s\n", MESH_VERSION);
    std::printf("BoringSSL %s (API %d)\n", MESH_BORINGSSL_REVISION, BORINGSSL_API_VERSION);
    std::printf("libuv %s\n", uv_version_string());
    std::printf("llhttp %d.%d.%d\n", LLHTTP_VERSION_MAJOR, LLHTTP_VERSION_MINOR,
                LLHTTP_VERSION_PATCH);
    ctx.exitCode = 0;
  });
}

}  // namespace

MESH_COMMAND("version", addVersion);

}  // namespace mesh::cmd
