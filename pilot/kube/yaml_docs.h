// Multi-document YAML as `kubectl` and `mesh inject` see it: the raw text of each document,
// kept so that a document nobody changes is written back byte for byte, and an emitter that
// writes a changed document without changing the meaning of its scalars (a string that was
// quoted, such as "true" or "15090", stays a quoted string).
#pragma once

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace mesh::pilot::kube {

struct RawDocument {
  std::string separator;  // the "---" line that opened it (with its newline), or empty
  std::string text;       // everything up to the next separator
  int firstLine = 1;      // 1-based line of `text` in the input, for error messages
};

// Splits at lines that are "---" or start with "--- " (YAML's document marker). Concatenating
// separator + text of every document gives back the input exactly.
std::vector<RawDocument> splitDocuments(std::string_view input);

// True when the document holds no node: only blank lines, comments or a "..." end marker.
bool isEmptyDocument(std::string_view text);

// Block-style YAML for `node`, ending in a newline. Scalars that were quoted in the input or
// created with quotedScalar() are double-quoted; strings with newlines are double-quoted too,
// so they survive exactly.
std::string emitYaml(const YAML::Node& node);

// The node at `path` below `node`, or an undefined node when a step is missing or not a map.
// yaml-cpp throws when indexing into a missing node; this never does.
YAML::Node lookup(const YAML::Node& node, std::initializer_list<const char*> path);
// The scalar at `path`, or an empty string.
std::string lookupScalar(const YAML::Node& node, std::initializer_list<const char*> path);

// A string scalar that must stay a string when emitted (annotation values, env values).
YAML::Node quotedScalar(const std::string& value);

}  // namespace mesh::pilot::kube
