// `mesh analyze [FILES|DIRS|-]`: Istio's `istioctl analyze` over files, offline. Parses the
// flags, reads the inputs and prints what pilot/analysis finds; exit status 79 when messages
// reach the failure threshold, 1 for unusable input or flags, 0 otherwise.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cmd/command.h"
#include "pilot/analysis/analysis.h"
#include "pilot/analysis/analyzer.h"
#include "pilot/analysis/output.h"

namespace mesh::cmd {

namespace {

namespace analysis = mesh::pilot::analysis;

struct AnalyzeFlags {
  std::vector<std::string> inputs;
  std::string output = "log";
  std::string outputThreshold = "Info";
  std::string failureThreshold = "Error";
  std::vector<std::string> suppress;
  std::string meshConfigFile;
  bool listAnalyzers = false;
  bool recursive = false;
  bool useKube = false;
  bool alpha = false;
  std::string color = "auto";
};

void listAnalyzers() {
  std::printf("Available analyzers:\n");
  for (const analysis::Analyzer& a : analysis::allAnalyzers()) {
    std::string codes;
    for (const analysis::MessageType* t : a.produces) {
      codes += (codes.empty() ? "" : ", ") + std::string(t->code);
    }
    std::printf("* %.*s:\n    %.*s (%s)\n", static_cast<int>(a.name.size()), a.name.data(),
                static_cast<int>(a.description.size()), a.description.data(), codes.c_str());
  }
}

int fail(const std::string& message) {
  std::fprintf(stderr, "Error: %s\n", message.c_str());
  return 1;
}

int run(const AnalyzeFlags& flags) {
  if (flags.listAnalyzers) {
    listAnalyzers();
    return 0;
  }
  if (flags.useKube) return fail("this build analyses files only; use --use-kube=false");
  analysis::Options options;
  analysis::Format format;
  if (!analysis::parseFormat(flags.output, format)) {
    return fail("--output must be log, json or yaml, not \"" + flags.output + "\"");
  }
  if (!analysis::parseLevel(flags.outputThreshold, options.outputThreshold) ||
      !analysis::parseLevel(flags.failureThreshold, options.failureThreshold)) {
    return fail("thresholds must be Info, Warning or Error");
  }
  for (const std::string& s : flags.suppress) {
    auto parsed = analysis::parseSuppression(s);
    if (!parsed.ok()) return fail(parsed.status().message());
    options.suppressions.push_back(*parsed);
  }
  options.settings.includeAlpha = flags.alpha;
  if (!flags.meshConfigFile.empty()) {
    std::ifstream in(flags.meshConfigFile);
    if (!in) return fail(flags.meshConfigFile + ": cannot read the mesh config file");
    std::ostringstream text;
    text << in.rdbuf();
    auto settings = analysis::parseMeshConfig(text.str(), options.settings);
    if (!settings.ok()) return fail(flags.meshConfigFile + ": " + settings.status().message());
    options.settings = *settings;
  }
  if (flags.inputs.empty()) {
    return fail("no input: give files, directories, or - for standard input");
  }
  auto sources = analysis::readSources(flags.inputs, flags.recursive, std::cin);
  if (!sources.ok()) return fail(sources.status().message());

  const analysis::Outcome outcome = analysis::analyze(*sources, options);
  for (const analysis::LoadError& e : outcome.loadErrors) {
    std::fprintf(stderr, "Error: %s\n", e.toString().c_str());
  }
  const bool color = flags.color == "always" ||
                     (flags.color == "auto" && isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR"));
  std::fputs(analysis::render(outcome.shown, format, color).c_str(), stdout);
  if (format == analysis::Format::log && outcome.shown.empty() && !outcome.failed) {
    std::fprintf(stderr, "\u2714 No validation issues found when analyzing %zu resources.\n",
                 outcome.resourceCount);
  }
  if (outcome.failed) {
    std::fprintf(stderr,
                 "Error: Analyzers found issues when analyzing the input files.\nSee "
                 "https://istio.io/latest/docs/reference/config/analysis for more "
                 "information about causes and resolutions.\n");
    return analysis::kExitIssuesFound;
  }
  return outcome.loadErrors.empty() ? 0 : 1;
}

void addAnalyze(CLI::App& app, Context& ctx) {
  auto flags = std::make_shared<AnalyzeFlags>();
  auto* sub = app.add_subcommand("analyze", "Check Istio and Kubernetes config files for mistakes");
  sub->add_option("inputs", flags->inputs, "Files, directories, or - for standard input");
  sub->add_option("-o,--output", flags->output, "Output format: log, json or yaml")
      ->capture_default_str();
  sub->add_option("--output-threshold", flags->outputThreshold,
                  "Lowest level shown: Info, Warning or Error")
      ->capture_default_str();
  sub->add_option("--failure-threshold", flags->failureThreshold,
                  "Lowest level that makes the exit status 79: Info, Warning or Error")
      ->capture_default_str();
  sub->add_option("-S,--suppress", flags->suppress,
                  "Suppress messages: \"<code>=<kind> <name>\", e.g. \"IST0102=Namespace frod\"; "
                  "the name may use * wildcards; repeatable");
  sub->add_option("--meshConfigFile", flags->meshConfigFile,
                  "Istio MeshConfig YAML (rootNamespace is read)");
  sub->add_flag("-L,--list-analyzers", flags->listAnalyzers, "List the analyzers and exit");
  sub->add_flag("-R,--recursive", flags->recursive, "Read directories recursively");
  sub->add_flag("--use-kube", flags->useKube,
                "Accepted for istioctl compatibility; only false is supported");
  sub->add_flag("--show-alpha-annotations", flags->alpha,
                "Also report alpha-phase annotations (IST0136)");
  sub->add_option("--color", flags->color, "Colour log output: auto, always or never")
      ->capture_default_str();
  sub->callback([flags, &ctx] { ctx.exitCode = run(*flags); });
}

}  // namespace

MESH_COMMAND("analyze", addAnalyze);

}  // namespace mesh::cmd
