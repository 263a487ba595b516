// The analysis message model: a message type (Istio's IST0xxx code, level, name and text
// template) and a message (a type, its rendered text, and the resource and line it is about).
// Message types are static data owned by the catalog (codes.h); a Message only points at one.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mesh::pilot::analysis {

// Ordered by severity so that "at or above a threshold" is a comparison.
enum class Level { info = 0, warning = 1, error = 2 };

std::string_view levelName(Level level);  // "Info", "Warning", "Error"
// Accepts istioctl's names in any case ("error", "Warning", "INFO"); false for anything else.
bool parseLevel(std::string_view name, Level& out);

struct MessageType {
  std::string_view code;  // "IST0101"
  std::string_view name;  // "ReferencedResourceNotFound"
  Level level;
  std::string_view description;  // one line, for --list-analyzers and docs/analyze.md
};

// Where a message points: the resource it is about and the file and line of the field.
struct Origin {
  std::string kind;       // "VirtualService"
  std::string ns;         // namespace as written in the file; empty if none
  std::string name;
  std::string file;       // as given on the command line; empty for built-in resources
  int line = 0;           // 1-based; 0 when unknown

  // "VirtualService default/reviews", or "Namespace bookinfo" when there is no namespace.
  std::string friendlyName() const;
  // "bookinfo.yaml:12", or "" for a resource that did not come from a file.
  std::string reference() const;
};

struct Message {
  const MessageType* type = nullptr;
  std::string text;  // the template already filled in
  Origin origin;
  bool hasOrigin = true;

  // "Error [IST0101] (VirtualService default/reviews bookinfo.yaml:12) Referenced host ..."
  std::string toLogLine() const;
  // https://istio.io/latest/docs/reference/config/analysis/ist0101/
  std::string documentationUrl() const;
};

// istioctl's order: Error before Warning before Info, then by code, origin and text; exact
// duplicates (the same line twice) are dropped.
void sortAndDedupe(std::vector<Message>& messages);

}  // namespace mesh::pilot::analysis
