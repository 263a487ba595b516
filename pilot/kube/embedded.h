// The Kubernetes manifest templates of manifests/, compiled into the binary at build time
// (scripts/embed_manifests.py generates the definition), so `mesh manifest generate` and
// `mesh install` need no files beside the binary. The strings live for the whole program.
#pragma once

#include <span>
#include <string_view>

namespace mesh::pilot::kube {

struct ManifestTemplate {
  std::string_view name;  // file name in manifests/, e.g. "pilot.yaml"
  std::string_view text;  // the template, see render.h for its syntax
};

// In install order: CRDs and the namespace first, the webhook last.
std::span<const ManifestTemplate> embeddedManifests();

}  // namespace mesh::pilot::kube
