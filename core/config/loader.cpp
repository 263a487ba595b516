#include "core/config/loader.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/config/field_path.h"
#include "core/config/kinds.h"
#include "core/config/yaml_json.h"
#include "core/config/yaml_tree.h"

namespace mesh::core::config {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A piece of a file holding one document, and the 0-based line it starts on.
struct Chunk {
  std::string_view text;
  int firstLine = 0;
};

bool isMarker(std::string_view line, std::string_view marker) {
  return line.starts_with(marker) &&
         (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r');
}
bool isSeparator(std::string_view line) { return isMarker(line, "---"); }
bool isDocumentEnd(std::string_view line) { return isMarker(line, "..."); }

// Whether a line holds YAML content, as opposed to blank space, a comment, a directive or a
// bare document marker.
bool isContent(std::string_view line) {
  if (isDocumentEnd(line)) return false;
  if (isSeparator(line)) line.remove_prefix(3);
  auto start = line.find_first_not_of(" \t\r");
  if (start == std::string_view::npos) return false;
  return line[start] != '#' && !(start == 0 && line[0] == '%');
}

// Splits a stream into its documents: a new one starts at each `---` line and after each
// `...` line. Doing this here rather than with yaml-cpp's LoadAll has two reasons: a syntax
// error then costs only its own document, and LoadAll in yaml-cpp 0.7 loops forever on some
// inputs (a stray ","), which YAML::Load on one document does not. Markers at the start of a
// line always delimit documents in YAML, even inside block scalars, so this agrees with the
// parser. Pieces with only comments or directives join the next piece; empty documents
// ("---" straight after "---") are dropped.
std::vector<Chunk> splitDocuments(std::string_view text) {
  std::vector<Chunk> chunks;
  std::size_t chunkStart = 0;
  int chunkLine = 0;
  bool chunkHasContent = false;
  bool chunkHasSeparator = false;
  auto close = [&](std::size_t end, std::size_t nextStart, int nextLine) {
    chunks.push_back({text.substr(chunkStart, end - chunkStart), chunkLine});
    chunkStart = nextStart;
    chunkLine = nextLine;
    chunkHasContent = false;
    chunkHasSeparator = false;
  };
  std::size_t pos = 0;
  for (int line = 0; pos < text.size(); ++line) {
    std::size_t end = std::min(text.find('\n', pos), text.size());
    std::string_view current = text.substr(pos, end - pos);
    if (isSeparator(current)) {
      if (chunkHasContent) {
        close(pos, pos, line);
      } else if (chunkHasSeparator) {
        // "---" after an empty document: the parser would stop at the empty one and never
        // see the next, so the empty one is dropped here.
        chunkStart = pos;
        chunkLine = line;
      }
      chunkHasSeparator = true;
    }
    chunkHasContent = chunkHasContent || isContent(current);
    pos = std::min(end + 1, text.size());
    if (isDocumentEnd(current) && chunkHasContent) close(pos, pos, line + 1);
  }
  if (chunkHasContent) chunks.push_back({text.substr(chunkStart), chunkLine});
  return chunks;
}

class FileLoader {
 public:
  FileLoader(const std::string& file, LoadResult& out, DocumentObserver* observer)
      : file_(file), out_(out), observer_(observer) {}

  void load(std::string_view text) {
    for (const Chunk& chunk : splitDocuments(text)) {
      offset_ = chunk.firstLine;
      YamlSyntaxError syntax;
      if (!parseYamlDocument(chunk.text, offset_, doc_, syntax)) {
        if (observer_ != nullptr) observer_->syntaxError(syntax);
        error({syntax.line, syntax.column}, {}, syntax.tooDeep ? "nested too deeply" : syntax.message,
              syntax.column);
        continue;
      }
      if (observer_ != nullptr) observer_->document(doc_);
      try {
        document(doc_.rootNode());
      } catch (const std::exception& e) {
        error({chunk.firstLine + 1, 0}, {}, e.what());
      }
    }
  }

 private:
  struct Identity {
    std::string kind, ns, name;
  };

  void error(Position at, const Identity& who, std::string message, int column = 0,
             std::string field = {}) {
    ConfigError e;
    e.file = file_;
    e.line = at.line;
    e.column = column;
    e.kind = who.kind;
    e.ns = who.ns.empty() ? "default" : who.ns;
    e.name = who.name;
    e.field = std::move(field);
    e.message = std::move(message);
    out_.errors.push_back(std::move(e));
  }

  // The value under `key`, or nullptr.
  const YamlNode* child(const YamlNode& map, std::string_view key) const {
    return doc_.child(map, key);
  }
  static bool isNull(const YamlNode* node) {
    return node == nullptr || node->type == YamlNode::Type::null;
  }

  // A scalar read before conversion (kind, name...), made safe to quote in errors and notes.
  std::string scalar(const YamlNode* map, std::string_view key) const {
    if (map == nullptr) return {};
    const YamlNode* value = child(*map, key);
    return value != nullptr && value->type == YamlNode::Type::scalar
               ? detail::sanitizeUtf8(value->text)
               : std::string();
  }

  void document(const YamlNode& doc) {
    if (doc.type == YamlNode::Type::null) return;  // an empty document, e.g. after a trailing ---
    std::string kind = scalar(&doc, "kind");
    const YamlNode* items = child(doc, "items");
    if (kind.ends_with("List") && !isNull(items)) {
      if (items->type != YamlNode::Type::sequence) {
        return error(detail::positionOf(*items), {kind, {}, {}}, "must be a list", 0, "items");
      }
      for (std::uint32_t item : items->children) resource(doc_.resolve(doc_[item]));
      return;
    }
    resource(doc);
  }

  void resource(const YamlNode& node) {
    Position at = detail::positionOf(node);
    if (node.type != YamlNode::Type::map) {
      return error(at, {}, "a resource must be a mapping with apiVersion, kind and metadata");
    }
    std::string apiVersion = scalar(&node, "apiVersion");
    std::string kind = scalar(&node, "kind");
    const YamlNode* metadata = child(node, "metadata");
    Identity who{kind, scalar(metadata, "namespace"), scalar(metadata, "name")};
    if (kind.empty()) error(at, who, "required field is missing", 0, "kind");
    if (apiVersion.empty()) error(at, who, "required field is missing", 0, "apiVersion");
    if (kind.empty() || apiVersion.empty()) return;

    auto slash = apiVersion.find('/');
    std::string group = slash == std::string::npos ? "" : apiVersion.substr(0, slash);
    std::string version = slash == std::string::npos ? apiVersion : apiVersion.substr(slash + 1);
    const detail::KindInfo* info = detail::findKind(group, kind);
    if (info == nullptr) {
      out_.skipped.push_back({file_, at.line, apiVersion, kind, who.name});
      return;
    }
    if (!detail::supportsVersion(*info, version)) {
      Position versionAt = detail::positionOf(*child(node, "apiVersion"));
      return error(versionAt, who,
                   "version " + version + " of " + kind + " is not supported (" +
                       std::string(group.empty() ? "core" : group) + " versions: " +
                       detail::supportedVersions(*info) + ")",
                   0, "apiVersion");
    }
    convertAndValidate(node, *info, at, std::move(apiVersion), who);
  }

  void convertAndValidate(const YamlNode& node, const detail::KindInfo& info, Position at,
                          std::string apiVersion, const Identity& who) {
    Resource r;
    r.apiVersion = std::move(apiVersion);
    r.kind = info.kind;
    r.file = file_;
    r.line = at.line;
    json doc;
    detail::ConvertError problem;
    if (!detail::yamlToJson(doc_, node, doc, r.positions, problem)) {
      return error(problem.position, who, problem.message, 0,
                   FieldPath::fromPointer(problem.pointer).display());
    }
    fillMetadata(doc, r);
    if (!detail::validateDocument(info, r, doc, out_.errors)) return;
    if (info.topFields) {
      // A Secret's type and data stand where a spec would (kinds.h).
      for (const auto& field : info.topFields()) {
        std::string key(field.name);
        if (doc.contains(key)) r.spec[key] = std::move(doc[key]);
      }
    } else if (doc.contains("spec") && doc["spec"].is_object()) {
      r.spec = std::move(doc["spec"]);
    }
    out_.resources.push_back(std::move(r));
  }

  // Reads what is there with the expected types; validation reports anything else.
  static void fillMetadata(const json& doc, Resource& r) {
    const json* meta = doc.contains("metadata") ? &doc["metadata"] : nullptr;
    if (meta == nullptr || !meta->is_object()) return;
    auto text = [&](const char* key) -> const std::string* {
      auto it = meta->find(key);
      return it != meta->end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
    };
    if (auto* name = text("name")) r.name = *name;
    if (auto* ns = text("namespace")) {
      r.ns = *ns;
      r.nsFromFile = true;
    }
    auto strings = [&](const char* key, std::map<std::string, std::string>& into) {
      auto it = meta->find(key);
      if (it == meta->end() || !it->is_object()) return;
      for (const auto& [k, v] : it->items()) {
        if (v.is_string()) into[k] = v.get<std::string>();
      }
    };
    strings("labels", r.labels);
    strings("annotations", r.annotations);
  }

  const std::string& file_;
  LoadResult& out_;
  DocumentObserver* observer_;
  int offset_ = 0;
  YamlDocument doc_;
};

void fileError(const std::string& file, std::string message, LoadResult& out) {
  ConfigError e;
  e.file = file;
  e.message = std::move(message);
  out.errors.push_back(std::move(e));
}

bool isConfigFile(const fs::path& path) {
  auto ext = path.extension();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

}  // namespace

void loadText(std::string_view text, const std::string& file, LoadResult& out,
              DocumentObserver* observer) {
  FileLoader(file, out, observer).load(text);
}

void loadFile(const fs::path& path, LoadResult& out) {
  std::string file = path.string();
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) return fileError(file, "cannot read: " + ec.message(), out);
  if (size > kMaxFileBytes) {
    return fileError(file, "larger than " + std::to_string(kMaxFileBytes >> 20) + " MiB", out);
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in && !in.eof()) return fileError(file, "cannot read: " + std::string(std::strerror(errno)), out);
  loadText(text.str(), file, out);
}

void loadDirectory(const fs::path& dir, LoadResult& out) {
  std::vector<fs::path> files;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && isConfigFile(it->path())) files.push_back(it->path());
  }
  if (ec) fileError(dir.string(), "cannot list: " + ec.message(), out);
  std::sort(files.begin(), files.end());
  for (const auto& file : files) loadFile(file, out);
}

LoadResult loadPath(const fs::path& path) {
  LoadResult out;
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    fileError(path.string(), "no such file or directory", out);
  } else if (fs::is_directory(status)) {
    loadDirectory(path, out);
  } else {
    loadFile(path, out);
  }
  return out;
}

bool isKnownKind(std::string_view apiVersion, std::string_view kind) {
  auto slash = apiVersion.find('/');
  std::string_view group = slash == std::string_view::npos ? "" : apiVersion.substr(0, slash);
  std::string_view version =
      slash == std::string_view::npos ? apiVersion : apiVersion.substr(slash + 1);
  const detail::KindInfo* info = detail::findKind(group, kind);
  return info != nullptr && detail::supportsVersion(*info, version);
}

}  // namespace mesh::core::config
