#include "pilot/analysis/loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mesh::pilot::analysis {

namespace {

// Hostile input (deep nesting, alias bombs) must not exhaust the stack or memory.
constexpr int kMaxDepth = 100;
constexpr size_t kMaxNodes = 200'000;  // per document

struct Converter {
  size_t nodes = 0;
  std::string error;

  bool convert(const YAML::Node& n, int depth, Value& out) {
    if (++nodes > kMaxNodes) return fail("document too large");
    if (depth > kMaxDepth) return fail("document nested too deeply");
    const int line = n.Mark().line + 1;
    switch (n.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        out = Value::makeNull(line);
        return true;
      case YAML::NodeType::Scalar:
        // yaml-cpp tags plain scalars "?" and quoted or block ones "!".
        out = Value::makeScalar(n.Scalar(), n.Tag() == "!" || n.Tag() == "tag:yaml.org,2002:str",
                                line);
        return true;
      case YAML::NodeType::Sequence:
        out = Value::makeSequence(line);
        for (const YAML::Node& item : n) {
          Value v;
          if (!convert(item, depth + 1, v)) return false;
          out.push(std::move(v));
        }
        return true;
      case YAML::NodeType::Map:
        out = Value::makeMap(line);
        for (const auto& kv : n) {
          if (!kv.first.IsScalar()) return fail("mapping keys must be strings");
          Value v;
          if (!convert(kv.second, depth + 1, v)) return false;
          // A key with no value ("labels:") points at the key's own line.
          if (v.isNull() && v.line() <= 1) v = Value::makeNull(kv.first.Mark().line + 1);
          out.add(kv.first.Scalar(), std::move(v));
        }
        return true;
    }
    return fail("unsupported YAML node");
  }

  bool fail(std::string message) {
    error = std::move(message);
    return false;
  }
};

void addResource(const Source& source, Value doc, int line, Loaded& out) {
  const std::string apiVersion = doc.str("apiVersion");
  const std::string kind = doc.str("kind");
  if (doc.isNull()) return;  // an empty document between "---" separators
  if (!doc.isMap() || apiVersion.empty() || kind.empty()) {
    out.errors.push_back({source.name, line, "not a Kubernetes object (no apiVersion and kind)"});
    return;
  }
  if (kind == "List" || (kind.size() > 4 && kind.compare(kind.size() - 4, 4, "List") == 0 &&
                         doc["items"].isSequence())) {
    for (const Value& item : doc["items"].items()) addResource(source, item, item.line(), out);
    return;
  }
  Resource r;
  r.apiVersion = apiVersion;
  r.kind = kind;
  r.name = doc["metadata"].str("name");
  r.writtenNs = doc["metadata"].str("namespace");
  r.ns = isClusterScoped(kind) ? "" : (r.writtenNs.empty() ? "default" : r.writtenNs);
  r.file = source.name;
  r.line = line;
  r.doc = std::move(doc);
  out.resources.push_back(std::move(r));
}

}  // namespace

std::string LoadError::toString() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  out += message;
  return out;
}

void loadSource(const Source& source, Loaded& out) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(source.text);
  } catch (const YAML::Exception& e) {
    out.errors.push_back({source.name, e.mark.line + 1, e.msg});
    return;
  }
  for (const YAML::Node& node : docs) {
    Converter c;
    Value v;
    if (!c.convert(node, 0, v)) {
      out.errors.push_back({source.name, node.Mark().line + 1, c.error});
      continue;
    }
    addResource(source, std::move(v), node.Mark().line + 1, out);
  }
}

namespace {

bool readFile(const std::filesystem::path& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buf;
  buf << in.rdbuf();
  out = buf.str();
  return !in.bad();
}

bool configFile(const std::filesystem::path& path) {
  const std::string ext = path.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

}  // namespace

core::Result<std::vector<Source>> readSources(const std::vector<std::string>& paths,
                                              bool recursive, std::istream& in) {
  namespace fs = std::filesystem;
  std::vector<Source> out;
  for (const std::string& path : paths) {
    if (path == "-") {
      std::ostringstream buf;
      buf << in.rdbuf();
      out.push_back({"-", buf.str()});
      continue;
    }
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<fs::path> files;
      auto collect = [&](const fs::directory_entry& e) {
        if (e.is_regular_file() && configFile(e.path())) files.push_back(e.path());
      };
      if (recursive) {
        for (const auto& e : fs::recursive_directory_iterator(path, ec)) collect(e);
      } else {
        for (const auto& e : fs::directory_iterator(path, ec)) collect(e);
      }
      if (ec) return core::error(core::Code::invalid, path + ": " + ec.message());
      std::sort(files.begin(), files.end());
      for (const fs::path& f : files) {
        Source s{f.string(), ""};
        if (!readFile(f, s.text)) return core::error(core::Code::not_found, f.string() + ": cannot read");
        out.push_back(std::move(s));
      }
      continue;
    }
    Source s{path, ""};
    if (!readFile(path, s.text)) {
      return core::error(core::Code::not_found, path + ": no such file or it cannot be read");
    }
    out.push_back(std::move(s));
  }
  return out;
}

bool parseDocument(const std::string& text, Value& out, std::string& error) {
  try {
    Converter c;
    if (c.convert(YAML::Load(text), 0, out)) return true;
    error = c.error;
  } catch (const YAML::Exception& e) {
    error = std::to_string(e.mark.line + 1) + ": " + e.msg;
  }
  return false;
}

}  // namespace mesh::pilot::analysis
