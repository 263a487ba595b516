#include "pilot/analysis/analysis.h"

#include <fnmatch.h>

#include <algorithm>
#include <future>
#include <set>

#include "core/config/loader.h"

#include "pilot/analysis/analyzer.h"
#include "pilot/analysis/codes.h"

namespace mesh::pilot::analysis {

namespace {

bool glob(const std::string& pattern, const std::string& text) {
  return fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

// Codes a resource's own galley.istio.io/analyze-suppress annotation turns off.
std::set<std::string> annotationSuppressions(const Resource& r) {
  std::set<std::string> codes;
  std::string list = r.annotations().str("galley.istio.io/analyze-suppress");
  size_t start = 0;
  while (start <= list.size() && !list.empty()) {
    size_t comma = list.find(',', start);
    std::string code = list.substr(start, comma == std::string::npos ? comma : comma - start);
    while (!code.empty() && code.front() == ' ') code.erase(0, 1);
    while (!code.empty() && code.back() == ' ') code.pop_back();
    if (!code.empty()) codes.insert(code);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return codes;
}

}  // namespace

bool Suppression::matches(const Message& m) const {
  if (code != "*" && code != m.type->code) return false;
  if (!m.hasOrigin) return pattern == "*";
  const Origin& o = m.origin;
  const std::string ns = o.ns.empty() ? "default" : o.ns;
  return glob(pattern, o.kind + " " + ns + "/" + o.name) ||
         glob(pattern, o.kind + " " + o.name) || glob(pattern, o.kind + " " + o.name + "." + ns);
}

core::Result<Suppression> parseSuppression(std::string_view text) {
  auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 >= text.size()) {
    return core::error(core::Code::invalid,
                       "suppression \"" + std::string(text) +
                           "\" must be <code>=<kind> <name>, e.g. \"IST0102=Namespace frod\"");
  }
  Suppression s{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
  if (s.code != "*" && codes::byCode(s.code) == nullptr) {
    return core::error(core::Code::invalid, "suppression \"" + std::string(text) +
                                                "\": unknown message code " + s.code);
  }
  return s;
}

core::Result<Settings> parseMeshConfig(const std::string& text, Settings base) {
  Value doc;
  std::string error;
  if (!parseDocument(text, doc, error)) {
    return core::error(core::Code::invalid, "mesh config: " + error);
  }
  if (doc.isNull()) return base;
  if (!doc.isMap()) return core::error(core::Code::invalid, "mesh config must be a YAML mapping");
  const Value& root = doc["rootNamespace"];
  if (root.present()) {
    if (!root.isScalar() || root.text().empty()) {
      return core::error(core::Code::invalid,
                         "mesh config line " + std::to_string(root.line()) +
                             ": rootNamespace must be a namespace name");
    }
    base.rootNamespace = root.text();
  }
  return base;
}

std::vector<Resource> defaultIngressGateway(const Settings& settings) {
  const std::string ns = settings.rootNamespace;
  const std::string yaml =
      "apiVersion: v1\nkind: Service\nmetadata:\n  name: istio-ingressgateway\n"
      "  namespace: " + ns + "\n"
      "spec:\n  selector:\n    istio: ingressgateway\n  ports:\n"
      "  - {name: http2, port: 80, targetPort: 80, protocol: TCP}\n"
      "  - {name: https, port: 443, targetPort: 443, protocol: TCP}\n"
      "  - {name: tcp, port: 31400, targetPort: 31400, protocol: TCP}\n"
      "  - {name: tls, port: 15443, targetPort: 15443, protocol: TCP}\n"
      "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: istio-ingressgateway\n"
      "  namespace: " + ns + "\n  labels:\n    istio: ingressgateway\n"
      "spec:\n  containers:\n  - name: istio-proxy\n";
  Loaded loaded;
  loadSource({"", yaml}, loaded);
  for (Resource& r : loaded.resources) r.file.clear();  // built in: never reported on
  return std::move(loaded.resources);
}

namespace {

// The same object given twice (two versions of one sample, say) counts once, as the later
// definition, which is what applying the files in order would leave in a cluster.
std::vector<Resource> lastDefinitions(std::vector<Resource> resources) {
  std::set<std::string> seen;
  std::vector<Resource> out;
  for (auto it = resources.rbegin(); it != resources.rend(); ++it) {
    if (!seen.insert(it->group() + "\n" + it->kind + "\n" + it->ns + "\n" + it->name).second) {
      continue;
    }
    out.push_back(std::move(*it));
  }
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace

Outcome analyzeResources(std::vector<Resource> resources, const Options& options,
                         std::vector<core::config::ConfigError> schemaErrors) {
  Outcome outcome;
  resources = lastDefinitions(std::move(resources));
  outcome.resourceCount = resources.size();
  if (options.assumeIngressGateway) {
    bool present = false;
    for (const Resource& r : resources) {
      present = present || (r.kind == "Service" && r.name == "istio-ingressgateway" &&
                            r.ns == options.settings.rootNamespace);
    }
    if (!present) {
      for (Resource& r : defaultIngressGateway(options.settings)) resources.push_back(std::move(r));
    }
  }
  Context ctx(resources, options.settings);
  ctx.setSchemaErrors(std::move(schemaErrors));
  for (const Analyzer& a : allAnalyzers()) a.run(ctx);

  // Per-resource suppressions, keyed like origins.
  std::set<std::string> suppressedByAnnotation;
  for (const Resource& r : resources) {
    for (const std::string& code : annotationSuppressions(r)) {
      suppressedByAnnotation.insert(code + "\n" + r.kind + "\n" + r.writtenNs + "\n" + r.name);
    }
  }
  std::vector<Message> kept;
  for (Message& m : ctx.messages()) {
    const std::string tail = "\n" + m.origin.kind + "\n" + m.origin.ns + "\n" + m.origin.name;
    if (suppressedByAnnotation.count(std::string(m.type->code) + tail) > 0 ||
        suppressedByAnnotation.count("*" + tail) > 0) {
      continue;
    }
    bool suppressed = false;
    for (const Suppression& s : options.suppressions) suppressed = suppressed || s.matches(m);
    if (suppressed) continue;
    outcome.failed = outcome.failed || m.type->level >= options.failureThreshold;
    if (m.type->level >= options.outputThreshold) kept.push_back(std::move(m));
  }
  sortAndDedupe(kept);
  outcome.shown = std::move(kept);
  return outcome;
}

Outcome analyze(const std::vector<Source>& sources, const Options& options) {
  // Each source is parsed once, by core/config's loader, which validates it (IST0106) and
  // hands the same parse to the analyzers' loading. The sources are loaded in two halves (by
  // size), the second on its own thread so that a second core, when there is one, takes it;
  // the halves are joined in order, so the result does not depend on the split.
  struct Part {
    Loaded loaded;
    core::config::LoadResult validation;
  };
  auto load = [&sources](size_t from, size_t to) {
    Part part;
    for (size_t i = from; i < to; ++i) loadSource(sources[i], part.loaded, part.validation);
    return part;
  };
  size_t total = 0;
  for (const Source& s : sources) total += s.text.size();
  size_t split = 0;
  for (size_t seen = 0; split < sources.size() && seen + sources[split].text.size() / 2 < total / 2;
       ++split) {
    seen += sources[split].text.size();
  }
  auto second = std::async(std::launch::async, load, split, sources.size());
  Part first = load(0, split);
  Part rest = second.get();
  auto append = [](auto& to, auto& from) {
    to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
  };
  append(first.loaded.resources, rest.loaded.resources);
  append(first.loaded.errors, rest.loaded.errors);
  append(first.validation.errors, rest.validation.errors);
  Outcome outcome = analyzeResources(std::move(first.loaded.resources), options,
                                     std::move(first.validation.errors));
  outcome.loadErrors = std::move(first.loaded.errors);
  return outcome;
}

}  // namespace mesh::pilot::analysis
