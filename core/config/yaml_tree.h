// One YAML document as yaml-cpp's parser reports it, kept as a flat array of nodes with the
// line and column of each. The loader parses every document once into this form; the JSON
// conversion for validation and `mesh analyze`'s own document model are both read from it,
// so a file is never parsed twice. It is much cheaper than yaml-cpp's YAML::Node graph (a
// shared_ptr and a std::map per node).
//
// Aliases are kept as alias nodes naming the anchored node rather than copied, so an alias
// bomb costs one node per alias here; readers expand them with their own limits.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mesh::core::config {

struct YamlNode {
  enum class Type : std::uint8_t { null, scalar, sequence, map, alias };

  Type type = Type::null;
  // The alias's target is still open where the alias appears (an anchor used inside itself).
  bool recursiveAlias = false;
  int line = 0;    // 1-based, in the file (the document's offset applied)
  int column = 0;  // 1-based
  std::string tag;   // scalars: "?" plain, "!" quoted or block, or an explicit tag
  std::string text;  // scalars
  // Sequences: the items. Maps: key, value, key, value... Aliases: the one target.
  std::vector<std::uint32_t> children;
};

struct YamlDocument {
  std::vector<YamlNode> nodes;
  std::uint32_t root = 0;
  int startLine = 1;  // where the parser began the document (1-based, in the file)

  const YamlNode& operator[](std::uint32_t index) const { return nodes[index]; }
  const YamlNode& rootNode() const { return nodes[root]; }
  // Follows aliases to the node they name.
  const YamlNode& resolve(const YamlNode& node) const;
  // The value under `key` in a map (aliases followed), or nullptr.
  const YamlNode* child(const YamlNode& map, std::string_view key) const;
};

struct YamlSyntaxError {
  int line = 0;  // 0 when the parser gave no position
  int column = 0;
  std::string message;
  bool tooDeep = false;  // yaml-cpp's recursion guard rather than a syntax error
};

// Parses the first document of `text` into `out`; `lineOffset` is added to every line (the
// document's first line in its file, 0-based). False with `error` when the text is not valid
// YAML. An empty text gives a document whose root is null.
bool parseYamlDocument(std::string_view text, int lineOffset, YamlDocument& out,
                       YamlSyntaxError& error);

}  // namespace mesh::core::config
