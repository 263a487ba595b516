#include "pilot/analysis/loader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "core/config/loader.h"

namespace mesh::pilot::analysis {

namespace {

using core::config::YamlDocument;
using core::config::YamlNode;

// Hostile input (deep nesting, alias bombs) must not exhaust the stack or memory.
constexpr size_t kMaxDepth = 100;
constexpr size_t kMaxNodes = 200'000;  // per document, aliases counted at their full size

// Builds the analyzers' Value tree from a document core/config's loader has parsed, walking
// it in the parser's order so that limits and errors fall where they always have. Aliases
// become copies of the anchored Value.
class ValueBuilder {
 public:
  explicit ValueBuilder(const YamlDocument& doc) : doc_(doc) {
    for (const YamlNode& n : doc.nodes) {
      if (n.type == YamlNode::Type::alias && !n.children.empty()) {
        if (anchored_.empty()) anchored_.resize(doc.nodes.size());
        anchored_[n.children[0]] = true;
      }
    }
  }

  // False with error() and errorLine() when the document breaks a limit.
  bool build(Value& out) {
    size_t count = 0;
    out = node(doc_.root, 0, count);
    return !failed_;
  }
  const std::string& error() const { return error_; }
  int errorLine() const { return errorLine_; }

 private:
  // The Value of node `index` with `depth` collections open around it; `count` receives how
  // many nodes it stands for (an alias: the whole anchored tree).
  Value node(uint32_t index, size_t depth, size_t& count) {
    const YamlNode& n = doc_[index];
    Value v;
    size_t added = 1;  // nodes this one adds to the document's count, beyond its children
    switch (n.type) {
      case YamlNode::Type::null:
        v = Value::makeNull(n.line);
        break;
      case YamlNode::Type::scalar:
        // Plain scalars are tagged "?"; quoted and block scalars "!"; !!str explicitly.
        v = Value::makeScalar(n.text, n.tag == "!" || n.tag == "tag:yaml.org,2002:str", n.line);
        break;
      case YamlNode::Type::alias: {
        auto it = n.recursiveAlias ? copies_.end() : copies_.find(n.children[0]);
        if (it == copies_.end()) return fail(n.line, "unknown alias");
        added = it->second.second;
        if (nodes_ + added > kMaxNodes) return fail(0, "document too large");
        v = it->second.first;
        break;
      }
      case YamlNode::Type::sequence:
      case YamlNode::Type::map: {
        if (depth >= kMaxDepth) return fail(n.line, "document nested too deeply");
        const size_t before = nodes_;
        v = collection(n, depth + 1);
        if (failed_) return {};
        count = 1 + nodes_ - before;
        break;
      }
    }
    if (n.type != YamlNode::Type::sequence && n.type != YamlNode::Type::map) count = added;
    nodes_ += added;
    if (nodes_ > kMaxNodes) return fail(0, "document too large");
    if (!anchored_.empty() && anchored_[index]) copies_[index] = {v, count};
    return v;
  }

  Value collection(const YamlNode& n, size_t depth) {
    if (n.type == YamlNode::Type::sequence) {
      Value seq = Value::makeSequence(n.line);
      for (uint32_t child : n.children) {
        size_t count = 0;
        Value item = node(child, depth, count);
        if (failed_) return {};
        seq.push(std::move(item));
      }
      return seq;
    }
    Value map = Value::makeMap(n.line);
    for (size_t i = 0; i + 1 < n.children.size(); i += 2) {
      const YamlNode& keyNode = doc_[n.children[i]];
      if (keyNode.type == YamlNode::Type::sequence || keyNode.type == YamlNode::Type::map) {
        return fail(keyNode.line, "mapping keys must be strings");
      }
      size_t count = 0;
      Value key = node(n.children[i], depth, count);
      if (failed_) return {};
      if (!key.isScalar() && !key.isNull()) return fail(0, "mapping keys must be strings");
      Value value = node(n.children[i + 1], depth, count);
      if (failed_) return {};
      // A key with no value ("labels:") points at the key's own line.
      if (value.isNull()) value = Value::makeNull(key.line());
      map.add(key.text(), std::move(value));
    }
    return map;
  }

  // `line` 0: the document's own line.
  Value fail(int line, const std::string& message) {
    if (!failed_) {
      failed_ = true;
      error_ = message;
      errorLine_ = line > 0 ? line : doc_.startLine;
    }
    return {};
  }

  const YamlDocument& doc_;
  std::vector<bool> anchored_;  // nodes some alias names; empty when there are none
  std::unordered_map<uint32_t, std::pair<Value, size_t>> copies_;
  size_t nodes_ = 0;
  bool failed_ = false;
  std::string error_;
  int errorLine_ = 0;
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

namespace {

// Receives each document of one source from core/config's loader. The first document that
// cannot be read ends the source for analysis, as a YAML stream parser would stop there.
class Collector : public core::config::DocumentObserver {
 public:
  Collector(const Source& source, Loaded& out) : source_(source), out_(out) {}

  void document(const YamlDocument& doc) override {
    if (stopped_) return;
    ValueBuilder builder(doc);
    Value value;
    if (!builder.build(value)) {
      out_.errors.push_back({source_.name, builder.errorLine(), builder.error()});
      stopped_ = true;
      return;
    }
    // The document's line is that of its first node, not of the "---" before it.
    const int line = value.line() > 0 ? value.line() : doc.startLine;
    addResource(source_, std::move(value), line, out_);
  }
  void syntaxError(const core::config::YamlSyntaxError& error) override {
    if (stopped_) return;
    out_.errors.push_back({source_.name, error.line, error.message});
    stopped_ = true;
  }

 private:
  const Source& source_;
  Loaded& out_;
  bool stopped_ = false;
};

}  // namespace

void loadSource(const Source& source, Loaded& out, core::config::LoadResult& validation) {
  Collector collector(source, out);
  core::config::loadText(source.text, source.name, validation, &collector);
}

void loadSource(const Source& source, Loaded& out) {
  core::config::LoadResult validation;
  loadSource(source, out, validation);
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
  YamlDocument doc;
  core::config::YamlSyntaxError syntax;
  if (!core::config::parseYamlDocument(text, 0, doc, syntax)) {
    error = syntax.message;
    return false;
  }
  ValueBuilder builder(doc);
  if (!builder.build(out)) {
    error = builder.error();
    return false;
  }
  return true;
}

}  // namespace mesh::pilot::analysis
