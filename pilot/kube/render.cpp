#include "pilot/kube/render.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <sstream>

#include "pilot/kube/yaml_docs.h"

namespace mesh::pilot::kube {

using core::Code;
using core::Result;
using core::Status;

namespace {

std::string where(const ManifestTemplate& tmpl, int line) {
  return std::string(tmpl.name) + ":" + std::to_string(line) + ": ";
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

// Replaces each {{key}} of one line.
Status substitute(std::string_view line, const Values& values, std::string& out) {
  while (true) {
    auto open = line.find("{{");
    if (open == std::string_view::npos) break;
    auto close = line.find("}}", open + 2);
    if (close == std::string_view::npos) return core::error(Code::invalid, "'{{' without '}}'");
    std::string_view key = trim(line.substr(open + 2, close - open - 2));
    if (!values.has(key)) {
      return core::error(Code::invalid, "unknown value '" + std::string(key) + "'");
    }
    out.append(line.substr(0, open));
    out.append(values.get(key));
    line.remove_prefix(close + 2);
  }
  out.append(line);
  return {};
}

struct Expanded {
  std::string text;         // directive lines removed
  std::vector<int> origin;  // template line of each line of `text`
};

// Applies #if/#endif and {{key}}.
Result<Expanded> expand(const ManifestTemplate& tmpl, const Values& values) {
  Expanded result;
  std::string& out = result.text;
  std::vector<bool> keeping;  // one entry per open #if
  std::istringstream in{std::string(tmpl.text)};
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.rfind("#if ", 0) == 0) {
      std::string_view key = trim(std::string_view(line).substr(4));
      bool negate = !key.empty() && key.front() == '!';
      if (negate) key.remove_prefix(1);
      if (!values.has(key)) {
        return core::error(Code::invalid,
                           where(tmpl, number) + "unknown value '" + std::string(key) + "'");
      }
      keeping.push_back(values.enabled(key) != negate);
      continue;
    }
    if (line.rfind("#endif", 0) == 0) {
      if (keeping.empty()) {
        return core::error(Code::invalid, where(tmpl, number) + "#endif without #if");
      }
      keeping.pop_back();
      continue;
    }
    if (std::find(keeping.begin(), keeping.end(), false) != keeping.end()) continue;
    if (Status status = substitute(line, values, out); !status.ok()) {
      return core::error(Code::invalid, where(tmpl, number) + status.message());
    }
    out += '\n';
    result.origin.push_back(number);
  }
  if (!keeping.empty()) {
    return core::error(Code::invalid, std::string(tmpl.name) + ": #if without #endif");
  }
  return result;
}

bool onlyCommentsOrBlank(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    std::string_view content = trim(line);
    if (!content.empty() && content.front() != '#') return false;
  }
  return true;
}

// `origin` maps the document's lines to template lines, for error messages.
Result<RenderedObject> describe(const ManifestTemplate& tmpl, std::string text,
                                const std::vector<int>& origin) {
  auto lineOf = [&origin](int index) {
    if (origin.empty()) return 0;
    return origin[std::min<std::size_t>(static_cast<std::size_t>(index), origin.size() - 1)];
  };
  YAML::Node doc;
  try {
    doc = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return core::error(Code::invalid,
                       where(tmpl, lineOf(e.mark.line)) + "rendered YAML does not parse: " + e.msg);
  }
  RenderedObject object;
  object.source = std::string(tmpl.name);
  if (doc.IsMap()) {
    object.apiVersion = lookupScalar(doc, {"apiVersion"});
    object.kind = lookupScalar(doc, {"kind"});
    object.name = lookupScalar(doc, {"metadata", "name"});
    object.ns = lookupScalar(doc, {"metadata", "namespace"});
  }
  if (object.apiVersion.empty() || object.kind.empty() || object.name.empty()) {
    return core::error(Code::invalid,
                       where(tmpl, lineOf(0)) + "document lacks apiVersion, kind or metadata.name");
  }
  object.yaml = std::move(text);
  return object;
}

}  // namespace

Result<std::vector<RenderedObject>> renderTemplate(const ManifestTemplate& tmpl,
                                                   const Values& values) {
  auto expanded = expand(tmpl, values);
  if (!expanded.ok()) return expanded.status();
  std::vector<RenderedObject> objects;
  std::istringstream in{expanded->text};
  std::string line;
  std::string current;
  std::vector<int> origin;
  std::size_t index = 0;
  auto flush = [&]() -> Status {
    if (!onlyCommentsOrBlank(current)) {
      auto object = describe(tmpl, std::move(current), origin);
      if (!object.ok()) return object.status();
      objects.push_back(std::move(*object));
    }
    current.clear();
    origin.clear();
    return {};
  };
  while (std::getline(in, line)) {
    int templateLine = expanded->origin[index++];
    if (line == "---" || line.rfind("--- ", 0) == 0) {
      if (Status status = flush(); !status.ok()) return status;
      continue;
    }
    current += line;
    current += '\n';
    origin.push_back(templateLine);
  }
  if (Status status = flush(); !status.ok()) return status;
  return objects;
}

Result<std::vector<RenderedObject>> renderAll(std::span<const ManifestTemplate> templates,
                                              const Values& values) {
  std::vector<RenderedObject> all;
  for (const ManifestTemplate& tmpl : templates) {
    auto objects = renderTemplate(tmpl, values);
    if (!objects.ok()) return objects.status();
    for (auto& object : *objects) all.push_back(std::move(object));
  }
  return all;
}

std::string joinDocuments(const std::vector<RenderedObject>& objects) {
  std::string out;
  for (const auto& object : objects) {
    out += "---\n";
    out += object.yaml;
  }
  return out;
}

}  // namespace mesh::pilot::kube
