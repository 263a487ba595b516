// The built-in demo of `mesh up` with no directory: examples/bookinfo compiled into the
// binary at build time (scripts/embed_manifests.py), so the one static binary runs it from
// anywhere. The strings live for the whole program.
#pragma once

#include <span>
#include <string_view>

namespace mesh::cmd::up {

struct EmbeddedFile {
  std::string_view
      name;  // path relative to examples/bookinfo, e.g. "networking/bookinfo-gateway.yaml"
  std::string_view text;
};

std::span<const EmbeddedFile> embeddedBookinfo();

}  // namespace mesh::cmd::up
