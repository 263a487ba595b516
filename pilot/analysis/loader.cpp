#include "pilot/analysis/loader.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <unordered_map>

namespace mesh::pilot::analysis {

namespace {

// Hostile input (deep nesting, alias bombs) must not exhaust the stack or memory.
constexpr size_t kMaxDepth = 100;
constexpr size_t kMaxNodes = 200'000;  // per document, aliases counted at their full size

// Builds Values straight from yaml-cpp's parser events. yaml-cpp's own node graph (a
// shared_ptr per node) costs several times the parse itself, and analysis never needs it.
class Builder : public YAML::EventHandler {
 public:
  explicit Builder(std::function<void(Value, int)> onDocument)
      : onDocument_(std::move(onDocument)) {}

  const std::string& error() const { return error_; }
  int errorLine() const { return errorLine_; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    stack_.clear();
    anchors_.clear();
    nodes_ = 0;
    docLine_ = mark.line + 1;
    failed_ = false;
  }
  void OnDocumentEnd() override {
    // The document's line is that of its first node, not of the "---" before it.
    const int line = root_.line() > 0 ? root_.line() : docLine_;
    if (!failed_ && haveRoot_) onDocument_(std::move(root_), line);
    haveRoot_ = false;
  }
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    complete(Value::makeNull(mark.line + 1), anchor, 1);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) return fail(mark, "unknown alias");
    complete(it->second.first, 0, it->second.second);
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    // Plain scalars are tagged "?"; quoted and block scalars "!"; !!str explicitly.
    const bool quoted = tag == "!" || tag == "tag:yaml.org,2002:str";
    complete(Value::makeScalar(value, quoted, mark.line + 1), anchor, 1);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(Value::makeSequence(mark.line + 1), anchor, mark);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(Value::makeMap(mark.line + 1), anchor, mark);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Frame {
    Value value;
    YAML::anchor_t anchor = 0;
    size_t firstNode = 0;
    bool haveKey = false;
    std::string key;
    int keyLine = 0;
  };

  void open(Value v, YAML::anchor_t anchor, const YAML::Mark& mark) {
    if (failed_) return;
    if (stack_.size() >= kMaxDepth) return fail(mark, "document nested too deeply");
    if (!stack_.empty() && stack_.back().value.isMap() && !stack_.back().haveKey) {
      return fail(mark, "mapping keys must be strings");
    }
    Frame f;
    f.value = std::move(v);
    f.anchor = anchor;
    f.firstNode = nodes_;
    stack_.push_back(std::move(f));
  }

  void close() {
    if (failed_ || stack_.empty()) return;
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    complete(std::move(f.value), f.anchor, 1, nodes_ - f.firstNode);
  }

  // Adds a finished node to its parent (or makes it the document's root).
  void complete(Value v, YAML::anchor_t anchor, size_t count, size_t inner = 0) {
    if (failed_) return;
    nodes_ += count;
    if (nodes_ > kMaxNodes) return fail(YAML::Mark(), "document too large");
    if (anchor != 0) anchors_[anchor] = {v, count + inner};
    if (stack_.empty()) {
      root_ = std::move(v);
      haveRoot_ = true;
      return;
    }
    Frame& parent = stack_.back();
    if (parent.value.isSequence()) {
      parent.value.push(std::move(v));
    } else if (!parent.haveKey) {
      if (!v.isScalar() && !v.isNull()) return fail(YAML::Mark(), "mapping keys must be strings");
      parent.key = v.text();
      parent.keyLine = v.line();
      parent.haveKey = true;
    } else {
      // A key with no value ("labels:") points at the key's own line.
      if (v.isNull()) v = Value::makeNull(parent.keyLine);
      parent.value.add(std::move(parent.key), std::move(v));
      parent.haveKey = false;
    }
  }

  void fail(const YAML::Mark& mark, const std::string& message) {
    if (failed_) return;
    failed_ = true;
    error_ = message;
    errorLine_ = mark.line >= 0 && mark.pos > 0 ? mark.line + 1 : docLine_;
  }

  std::function<void(Value, int)> onDocument_;
  std::vector<Frame> stack_;
  std::unordered_map<YAML::anchor_t, std::pair<Value, size_t>> anchors_;
  size_t nodes_ = 0;
  Value root_;
  bool haveRoot_ = false;
  bool failed_ = false;
  int docLine_ = 1;
  std::string error_;
  int errorLine_ = 0;

 public:
  bool failed() const { return failed_; }
};

// Parses every document of `text`; false (with the builder's or the parser's error) when a
// document could not be read. Documents before the bad one are still delivered.
bool parseAll(const std::string& text, const std::function<void(Value, int)>& onDocument,
              std::string& error, int& errorLine) {
  std::istringstream in(text);
  Builder builder(onDocument);
  try {
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(builder)) {
      if (builder.failed()) {
        error = builder.error();
        errorLine = builder.errorLine();
        return false;
      }
    }
  } catch (const YAML::Exception& e) {
    error = e.msg;
    errorLine = e.mark.line + 1;
    return false;
  }
  return true;
}

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
  std::string error;
  int line = 0;
  auto add = [&](Value doc, int docLine) { addResource(source, std::move(doc), docLine, out); };
  if (!parseAll(source.text, add, error, line)) out.errors.push_back({source.name, line, error});
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
  bool first = true;
  int line = 0;
  auto keep = [&](Value doc, int) {
    if (first) out = std::move(doc);
    first = false;
  };
  return parseAll(text, keep, error, line);
}

}  // namespace mesh::pilot::analysis
