// Turns input text (YAML, possibly several documents; or JSON) into Resources for analysis,
// keeping the line of every field. The text is parsed by core/config's loader, once: the
// analyzers' Value trees and core/config's validation both come from that one parse.
// Kubernetes `List` objects are opened into their items. Documents that are not Kubernetes
// objects (no apiVersion or kind) are reported, not fatal.
#pragma once

#include <istream>
#include <string>
#include <vector>

#include "core/base/status.h"
#include "core/config/resource.h"

#include "pilot/analysis/resource.h"

namespace mesh::pilot::analysis {

struct Source {
  std::string name;  // the path as given, or "-" for standard input
  std::string text;
};

struct LoadError {
  std::string file;
  int line = 0;
  std::string message;
  std::string toString() const;  // "bad.yaml:3: mapping values are not allowed here"
};

struct Loaded {
  std::vector<Resource> resources;
  std::vector<LoadError> errors;
};

// Appends what `source` holds to `out`. The text is parsed once, by core/config's loader,
// which also validates it into `validation` (for IST0106).
void loadSource(const Source& source, Loaded& out, core::config::LoadResult& validation);
void loadSource(const Source& source, Loaded& out);
// Reads the inputs as `mesh analyze` takes them: files; directories (their *.yaml, *.yml and
// *.json files, and with `recursive` those of subdirectories); "-" for `in`. Sorted within a
// directory so output does not depend on the file system's order.
core::Result<std::vector<Source>> readSources(const std::vector<std::string>& paths,
                                              bool recursive, std::istream& in);

// One YAML document (or JSON text) as a Value tree; for --meshConfigFile and tests.
bool parseDocument(const std::string& text, Value& out, std::string& error);

}  // namespace mesh::pilot::analysis
