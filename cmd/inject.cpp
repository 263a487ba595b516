// `mesh inject -f FILE`: add the sidecar to Kubernetes workload YAML (pilot/kube/inject.h),
// as `istioctl kube-inject` does. Reads a file or stdin, writes stdout or a file.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "cmd/command.h"
#include "pilot/kube/inject.h"

namespace mesh::cmd {

namespace {

namespace kube = mesh::pilot::kube;

struct InjectFlags {
  std::string input;
  std::string output;
  std::vector<std::string> sets;
  bool verbose = false;
};

bool readInput(const std::string& name, std::string& text) {
  if (name == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    return true;
  }
  std::ifstream in(name, std::ios::binary);
  if (!in) return false;
  std::ostringstream content;
  content << in.rdbuf();
  text = content.str();
  return true;
}

bool writeOutput(const std::string& name, const std::string& text) {
  if (name.empty() || name == "-") {
    return std::fwrite(text.data(), 1, text.size(), stdout) == text.size();
  }
  std::ofstream out(name, std::ios::binary | std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

int run(const InjectFlags& flags) {
  auto values = kube::Values::fromSets(flags.sets);
  if (!values.ok()) {
    std::fprintf(stderr, "mesh inject: %s\n", values.status().message().c_str());
    return 2;
  }
  std::string input;
  if (!readInput(flags.input, input)) {
    std::fprintf(stderr, "mesh inject: cannot read %s\n", flags.input.c_str());
    return 1;
  }
  auto result = kube::injectDocuments(input, kube::injectOptionsFrom(*values));
  if (!result.ok()) {
    std::fprintf(stderr, "mesh inject: %s: %s\n", flags.input.c_str(),
                 result.status().message().c_str());
    return 1;
  }
  if (flags.verbose) {
    for (const auto& object : result->objects) {
      std::fprintf(stderr, "%s %s/%s: %s (%s)\n", object.kind.c_str(), object.ns.c_str(),
                   object.name.c_str(), object.injected ? "injected" : "not injected",
                   object.reason.c_str());
    }
  }
  if (!writeOutput(flags.output, result->output)) {
    std::fprintf(stderr, "mesh inject: cannot write %s\n", flags.output.c_str());
    return 1;
  }
  return 0;
}

void addInject(CLI::App& app, Context& ctx) {
  static InjectFlags flags;
  auto* sub = app.add_subcommand("inject", "Add the sidecar to Kubernetes workload YAML");
  sub->add_option("-f,--filename", flags.input, "YAML to inject ('-' for stdin)")->required();
  sub->add_option("-o,--output", flags.output, "where to write (default: stdout)");
  sub->add_option("--set,-s", flags.sets,
                  "key=value as for `mesh install` (hub, tag, namespace, trustDomain, ...)");
  sub->add_flag("-v,--verbose", flags.verbose, "say on stderr what was injected and why");
  sub->callback([&ctx] { ctx.exitCode = run(flags); });
}

}  // namespace

MESH_COMMAND("inject", addInject);

}  // namespace mesh::cmd
