// The resource model: one Kubernetes-style object (an Istio VirtualService, a Service...) as
// loaded from a YAML or JSON file, plus the structured errors and notes that loading produces.
// Pilot and `mesh analyze` work on these; nothing here knows how a proxy uses them.
//
// Where fields came from: every resource keeps a table from JSON pointer (relative to the
// resource's own root, e.g. "/spec/http/0/route/0/weight") to the line and column in its
// file. The table is filled while the YAML is converted, rather than keeping yaml-cpp's node
// tree for lazy look-ups, so that a Resource is a plain copyable value that does not drag
// yaml-cpp into its users, and so JSON input gets the same table. It costs the pointer's
// text and 16 bytes per value, in two allocations per resource.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace mesh::core::config {

// 1-based; 0 means unknown.
struct Position {
  int line = 0;
  int column = 0;
};

class PositionTable {
 public:
  void add(std::string_view pointer, Position position);
  // Sorts the table and trims its spare capacity; call once after the last add().
  void seal();
  // The position of `pointer`, or of its nearest ancestor that has one (a missing field is
  // reported at the object that should hold it). Unknown for an empty table.
  Position find(std::string_view pointer) const;
  std::size_t size() const { return entries_.size(); }

 private:
  // Pointers are kept back to back in one string rather than one std::string each: pilot
  // holds every resource of the mesh (twice, with its file cache), and this is most of a
  // resource's allocations.
  struct Entry {
    std::uint32_t offset = 0;
    std::uint32_t length = 0;
    Position position;
  };
  std::string_view pointerOf(const Entry& e) const { return {text_.data() + e.offset, e.length}; }

  std::string text_;
  std::vector<Entry> entries_;
};

struct Resource {
  std::string apiVersion;  // "networking.istio.io/v1beta1", "v1", "apps/v1"
  std::string kind;
  std::string name;
  std::string ns = "default";  // metadata.namespace, "default" when absent
  bool nsFromFile = false;     // metadata.namespace was written in the file
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  nlohmann::json spec = nlohmann::json::object();  // an empty object when the file has none
  std::string file;
  int line = 0;  // where the resource's mapping starts
  PositionTable positions;

  std::string group() const;    // "networking.istio.io"; "" for the core group
  std::string version() const;  // "v1beta1"
  // "VirtualService default/reviews", as errors and analysis messages name a resource.
  std::string ref() const;
  // The line of a field, by JSON pointer from the resource root ("/spec/hosts/0"); falls
  // back to the nearest enclosing field, then to the resource's first line.
  int lineOf(std::string_view pointer) const;
};

// One thing wrong with the input, precise enough to fix without reading the code.
struct ConfigError {
  std::string file;
  int line = 0;
  int column = 0;  // set for YAML syntax errors, where the column is what helps
  std::string kind;  // the resource's identity when known
  std::string ns;
  std::string name;
  std::string field;  // "spec.http[0].route[0].weight"; empty for a whole-document problem
  std::string message;

  // "bookinfo.yaml:42: VirtualService default/reviews: spec.http[0].route[0].weight: must be
  // an integer between 0 and 100"; "bad.yaml:3:7: mapping values are not allowed here".
  std::string toString() const;
};

// A resource of a kind mesh does not read (a ConfigMap, a Gateway API Gateway...). Not an
// error: Istio users keep such objects next to their mesh config.
struct SkippedNote {
  std::string file;
  int line = 0;
  std::string apiVersion;
  std::string kind;
  std::string name;
  std::string toString() const;
};

struct LoadResult {
  std::vector<Resource> resources;  // only resources without errors
  std::vector<ConfigError> errors;
  std::vector<SkippedNote> skipped;
  bool ok() const { return errors.empty(); }
};

// "a/b.yaml:12: VirtualService default/reviews: spec.hosts: ..." for every error, one a line.
std::string formatErrors(const std::vector<ConfigError>& errors);

}  // namespace mesh::core::config
