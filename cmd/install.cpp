// `mesh install`, `mesh manifest generate` and `mesh uninstall`: render the Kubernetes
// manifests compiled into the binary (pilot/kube) for a profile and `--set` overrides, and
// print them or hand them to kubectl.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cmd/command.h"
#include "pilot/kube/embedded.h"
#include "pilot/kube/kubectl.h"
#include "pilot/kube/render.h"

namespace mesh::cmd {

namespace {

namespace kube = mesh::pilot::kube;

struct RenderFlags {
  std::vector<std::string> sets;
  bool dryRun = false;
  bool purge = false;
  std::string kubectl = "kubectl";
};

void addSetFlag(CLI::App* sub, RenderFlags& flags) {
  sub->add_option("--set,-s", flags.sets,
                  "key=value override (repeatable); profile=default|demo|minimal picks the base");
}

// Renders, or prints the reason it cannot and returns false.
bool render(const RenderFlags& flags, std::vector<kube::RenderedObject>& objects) {
  auto values = kube::Values::fromSets(flags.sets);
  if (!values.ok()) {
    std::fprintf(stderr, "mesh: %s\n", values.status().message().c_str());
    return false;
  }
  auto rendered = kube::renderAll(kube::embeddedManifests(), *values);
  if (!rendered.ok()) {
    std::fprintf(stderr, "mesh: %s\n", rendered.status().message().c_str());
    return false;
  }
  objects = std::move(*rendered);
  return true;
}

void print(const std::vector<kube::RenderedObject>& objects) {
  std::string text = kube::joinDocuments(objects);
  std::fwrite(text.data(), 1, text.size(), stdout);
}

// Runs kubectl, or says why it cannot; returns the exit code.
int applyWith(const RenderFlags& flags, const std::vector<std::string>& args,
              const std::vector<kube::RenderedObject>& objects) {
  const char* path = std::getenv("PATH");
  std::string kubectl = kube::findExecutable(flags.kubectl, path ? path : "");
  if (kubectl.empty()) {
    std::fprintf(stderr,
                 "mesh: %s not found: install kubectl, name it with --kubectl, or use --dry-run "
                 "to print the manifests\n",
                 flags.kubectl.c_str());
    return 1;
  }
  auto rc = kube::runKubectl(kubectl, args, kube::joinDocuments(objects));
  if (!rc.ok()) {
    std::fprintf(stderr, "mesh: %s\n", rc.status().message().c_str());
    return 1;
  }
  if (*rc != 0) std::fprintf(stderr, "mesh: kubectl exited with status %d\n", *rc);
  return *rc;
}

void addInstall(CLI::App& app, Context& ctx) {
  static RenderFlags flags;
  auto* sub = app.add_subcommand("install", "Render (and apply) the Kubernetes manifests");
  addSetFlag(sub, flags);
  sub->add_flag("--dry-run", flags.dryRun, "print the manifests instead of applying them");
  sub->add_option("--kubectl", flags.kubectl, "kubectl to run (default: kubectl in PATH)");
  sub->callback([&ctx] {
    std::vector<kube::RenderedObject> objects;
    if (!render(flags, objects)) {
      ctx.exitCode = 2;
      return;
    }
    if (flags.dryRun) {
      print(objects);
      return;
    }
    ctx.exitCode = applyWith(flags, {"apply"}, objects);
  });
}

void addManifest(CLI::App& app, Context& ctx) {
  static RenderFlags flags;
  auto* sub = app.add_subcommand("manifest", "Work with the Kubernetes manifests");
  sub->require_subcommand(1);
  auto* generate = sub->add_subcommand("generate", "Print the Kubernetes manifests");
  addSetFlag(generate, flags);
  generate->callback([&ctx] {
    std::vector<kube::RenderedObject> objects;
    if (!render(flags, objects)) {
      ctx.exitCode = 2;
      return;
    }
    print(objects);
  });
}

void addUninstall(CLI::App& app, Context& ctx) {
  static RenderFlags flags;
  auto* sub = app.add_subcommand("uninstall", "Remove what `mesh install` applied");
  addSetFlag(sub, flags);
  sub->add_flag("--purge", flags.purge,
                "also remove the CRDs, and with them every Istio resource in the cluster");
  sub->add_flag("--dry-run", flags.dryRun, "print what would be removed instead");
  sub->add_option("--kubectl", flags.kubectl, "kubectl to run (default: kubectl in PATH)");
  sub->callback([&ctx] {
    std::vector<kube::RenderedObject> objects;
    if (!render(flags, objects)) {
      ctx.exitCode = 2;
      return;
    }
    // Users' VirtualServices and the like go with the CRDs, so those stay unless asked.
    if (!flags.purge) {
      std::erase_if(objects, [](const auto& o) { return o.kind == "CustomResourceDefinition"; });
    }
    std::reverse(objects.begin(), objects.end());
    if (flags.dryRun) {
      print(objects);
      return;
    }
    ctx.exitCode = applyWith(flags, {"delete", "--ignore-not-found"}, objects);
  });
}

}  // namespace

MESH_COMMAND("install", addInstall);
// Two more commands from this file, so the macro's single name cannot serve them.
static const CommandRegistration manifestRegistration{"manifest", addManifest};
static const CommandRegistration uninstallRegistration{"uninstall", addUninstall};

}  // namespace mesh::cmd
