#include "pilot/analysis/message.h"

#include <algorithm>
#include <cctype>
#include <tuple>

namespace mesh::pilot::analysis {

std::string_view levelName(Level level) {
  switch (level) {
    case Level::error: return "Error";
    case Level::warning: return "Warning";
    case Level::info: return "Info";
  }
  return "Info";
}

bool parseLevel(std::string_view name, Level& out) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "error") out = Level::error;
  else if (lower == "warning" || lower == "warn") out = Level::warning;
  else if (lower == "info") out = Level::info;
  else return false;
  return true;
}

std::string Origin::friendlyName() const {
  if (ns.empty()) return kind + " " + name;
  return kind + " " + ns + "/" + name;
}

std::string Origin::reference() const {
  if (file.empty()) return "";
  if (line <= 0) return file;
  return file + ":" + std::to_string(line);
}

std::string Message::toLogLine() const {
  std::string out(levelName(type->level));
  out += " [";
  out += type->code;
  out += "]";
  if (hasOrigin) {
    out += " (" + origin.friendlyName();
    std::string ref = origin.reference();
    if (!ref.empty()) out += " " + ref;
    out += ")";
  }
  out += " " + text;
  return out;
}

std::string Message::documentationUrl() const {
  std::string code(type->code);
  for (char& c : code) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return "https://istio.io/latest/docs/reference/config/analysis/" + code + "/";
}

void sortAndDedupe(std::vector<Message>& messages) {
  auto key = [](const Message& m) {
    // Higher level first, hence the negation.
    return std::make_tuple(-static_cast<int>(m.type->level), m.type->code, m.hasOrigin,
                           m.origin.kind + " " + m.origin.ns + "/" + m.origin.name,
                           m.toLogLine());
  };
  std::stable_sort(messages.begin(), messages.end(),
                   [&](const Message& a, const Message& b) { return key(a) < key(b); });
  auto same = [](const Message& a, const Message& b) {
    return a.type == b.type && a.toLogLine() == b.toLogLine();
  };
  messages.erase(std::unique(messages.begin(), messages.end(), same), messages.end());
}

}  // namespace mesh::pilot::analysis
