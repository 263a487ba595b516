#include "core/config/yaml_tree.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <istream>
#include <streambuf>
#include <unordered_map>

namespace mesh::core::config {
namespace {

// Reads a string_view through std::istream without copying it, for yaml-cpp's parser.
class ViewBuffer : public std::streambuf {
 public:
  explicit ViewBuffer(std::string_view text) {
    char* begin = const_cast<char*>(text.data());
    setg(begin, begin, begin + text.size());
  }
};

// Appends nodes in parser order; a collection's index is taken when it opens, so the root
// and every parent come before their children.
class Builder : public YAML::EventHandler {
 public:
  Builder(YamlDocument& doc, int lineOffset) : doc_(doc), lineOffset_(lineOffset) {}

  bool haveRoot() const { return haveRoot_; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    doc_.startLine = mark.line + 1 + lineOffset_;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    std::uint32_t index = add(YamlNode::Type::null, mark);
    remember(anchor, index);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    std::uint32_t index = add(YamlNode::Type::alias, mark);
    auto it = anchors_.find(anchor);
    // yaml-cpp's parser refuses unknown aliases itself; an unknown one here becomes null.
    if (it == anchors_.end()) {
      doc_.nodes[index].type = YamlNode::Type::null;
      return;
    }
    doc_.nodes[index].children.push_back(it->second);
    doc_.nodes[index].recursiveAlias = isOpen(it->second);
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    std::uint32_t index = add(YamlNode::Type::scalar, mark);
    doc_.nodes[index].tag = tag;
    doc_.nodes[index].text = value;
    remember(anchor, index);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(YamlNode::Type::sequence, mark, anchor);
  }
  void OnSequenceEnd() override { open_.pop_back(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(YamlNode::Type::map, mark, anchor);
  }
  void OnMapEnd() override { open_.pop_back(); }

 private:
  std::uint32_t add(YamlNode::Type type, const YAML::Mark& mark) {
    auto index = static_cast<std::uint32_t>(doc_.nodes.size());
    YamlNode& node = doc_.nodes.emplace_back();
    node.type = type;
    node.line = mark.line + 1 + lineOffset_;
    node.column = mark.column + 1;
    if (!open_.empty()) {
      doc_.nodes[open_.back()].children.push_back(index);
    } else if (!haveRoot_) {
      doc_.root = index;
      haveRoot_ = true;
    }
    return index;
  }

  void open(YamlNode::Type type, const YAML::Mark& mark, YAML::anchor_t anchor) {
    std::uint32_t index = add(type, mark);
    remember(anchor, index);
    open_.push_back(index);
  }

  void remember(YAML::anchor_t anchor, std::uint32_t index) {
    if (anchor != 0) anchors_[anchor] = index;
  }

  bool isOpen(std::uint32_t index) const {
    for (std::uint32_t o : open_) {
      if (o == index) return true;
    }
    return false;
  }

  YamlDocument& doc_;
  int lineOffset_;
  std::vector<std::uint32_t> open_;
  std::unordered_map<YAML::anchor_t, std::uint32_t> anchors_;
  bool haveRoot_ = false;
};

}  // namespace

const YamlNode& YamlDocument::resolve(const YamlNode& node) const {
  const YamlNode* n = &node;
  // An alias names a node that came before it and is not an alias itself (the parser
  // resolves aliases of aliases to the anchored node), so one step is enough; the bound
  // only guards against a malformed tree.
  for (int i = 0; i < 8 && n->type == YamlNode::Type::alias && !n->children.empty(); ++i) {
    n = &nodes[n->children[0]];
  }
  return *n;
}

const YamlNode* YamlDocument::child(const YamlNode& map, std::string_view key) const {
  const YamlNode& m = resolve(map);
  if (m.type != YamlNode::Type::map) return nullptr;
  for (std::size_t i = 0; i + 1 < m.children.size(); i += 2) {
    const YamlNode& k = resolve(nodes[m.children[i]]);
    if (k.type == YamlNode::Type::scalar && k.text == key) return &resolve(nodes[m.children[i + 1]]);
  }
  return nullptr;
}

bool parseYamlDocument(std::string_view text, int lineOffset, YamlDocument& out,
                       YamlSyntaxError& error) {
  out.nodes.clear();
  out.root = 0;
  out.startLine = lineOffset + 1;
  ViewBuffer buffer(text);
  std::istream in(&buffer);
  Builder builder(out, lineOffset);
  auto fail = [&](const YAML::Mark& mark, std::string message, bool tooDeep) {
    error = {};
    if (!mark.is_null() && mark.line >= 0) {
      error.line = mark.line + 1 + lineOffset;
      error.column = mark.column + 1;
    }
    error.message = std::move(message);
    error.tooDeep = tooDeep;
    return false;
  };
  try {
    YAML::Parser parser(in);
    parser.HandleNextDocument(builder);
  } catch (const YAML::DeepRecursion& e) {
    return fail(e.mark, e.msg, true);
  } catch (const YAML::Exception& e) {
    return fail(e.mark, e.msg.empty() ? std::string(e.what()) : e.msg, false);
  } catch (const std::exception& e) {
    error = {lineOffset + 1, 0, e.what(), false};
    return false;
  }
  if (!builder.haveRoot()) {
    out.nodes.clear();
    out.nodes.emplace_back();  // an empty document: a null root
    out.root = 0;
  }
  return true;
}

}  // namespace mesh::core::config
