#include "pilot/kube/yaml_docs.h"

namespace mesh::pilot::kube {

namespace {

bool isSeparator(std::string_view line) {
  if (line.rfind("---", 0) != 0) return false;
  return line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r';
}

// yaml-cpp marks a scalar that was quoted in the source with the non-specific tag "!".
bool wasQuoted(const YAML::Node& node) {
  return node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str";
}

void emitNode(YAML::Emitter& out, const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      out << YAML::BeginMap;
      for (const auto& entry : node) {
        out << YAML::Key;
        emitNode(out, entry.first);
        out << YAML::Value;
        emitNode(out, entry.second);
      }
      out << YAML::EndMap;
      break;
    case YAML::NodeType::Sequence:
      out << YAML::BeginSeq;
      for (const auto& item : node) emitNode(out, item);
      out << YAML::EndSeq;
      break;
    case YAML::NodeType::Scalar:
      if (wasQuoted(node) || node.Scalar().find('\n') != std::string::npos) {
        out << YAML::DoubleQuoted << node.Scalar();
      } else {
        out << node.Scalar();
      }
      break;
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      out << YAML::Null;
      break;
  }
}

}  // namespace

std::vector<RawDocument> splitDocuments(std::string_view input) {
  std::vector<RawDocument> docs;
  RawDocument current;
  int line_number = 1;
  std::size_t pos = 0;
  while (pos < input.size()) {
    std::size_t end = input.find('\n', pos);
    std::size_t next = end == std::string_view::npos ? input.size() : end + 1;
    std::string_view line = input.substr(pos, next - pos);
    std::string_view content = line;
    if (!content.empty() && content.back() == '\n') content.remove_suffix(1);
    if (isSeparator(content)) {
      if (!current.separator.empty() || !current.text.empty()) docs.push_back(std::move(current));
      current = RawDocument{std::string(line), {}, line_number + 1};
    } else {
      current.text.append(line);
    }
    ++line_number;
    pos = next;
  }
  if (!current.separator.empty() || !current.text.empty()) docs.push_back(std::move(current));
  return docs;
}

bool isEmptyDocument(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    auto first = line.find_first_not_of(" \t\r");
    if (first != std::string_view::npos && line[first] != '#' && line.substr(first) != "...") {
      return false;
    }
    pos = end + 1;
  }
  return true;
}

std::string emitYaml(const YAML::Node& node) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  out.SetMapFormat(YAML::Block);
  emitNode(out, node);
  std::string text = out.c_str();
  if (text.empty() || text.back() != '\n') text += '\n';
  return text;
}

YAML::Node lookup(const YAML::Node& node, std::initializer_list<const char*> path) {
  YAML::Node current(node);
  for (const char* step : path) {
    if (!current.IsDefined() || !current.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node& map = current;
    YAML::Node next = map[step];
    if (!next.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
    current.reset(next);
  }
  return current;
}

std::string lookupScalar(const YAML::Node& node, std::initializer_list<const char*> path) {
  YAML::Node found = lookup(node, path);
  return found.IsDefined() && found.IsScalar() ? found.Scalar() : std::string();
}

YAML::Node quotedScalar(const std::string& value) {
  YAML::Node node(value);
  node.SetTag("!");
  return node;
}

}  // namespace mesh::pilot::kube
