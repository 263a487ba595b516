#include "pilot/analysis/output.h"

#include <nlohmann/json.hpp>

namespace mesh::pilot::analysis {

namespace {

std::string renderLog(const std::vector<Message>& messages, bool color) {
  std::string out;
  for (const Message& m : messages) {
    std::string line = m.toLogLine();
    if (color) {
      const char* on = m.type->level == Level::error     ? "\033[1;31m"
                       : m.type->level == Level::warning ? "\033[33m"
                                                         : "\033[36m";
      const size_t levelLength = levelName(m.type->level).size();
      line = on + line.substr(0, levelLength) + "\033[0m" + line.substr(levelLength);
    }
    out += line + "\n";
  }
  return out;
}

// Go's encoding/json sorts map keys, which is the order istioctl's output has.
nlohmann::json toJson(const Message& m) {
  nlohmann::json j = nlohmann::json::object();
  j["code"] = std::string(m.type->code);
  j["documentationUrl"] = m.documentationUrl();
  j["level"] = std::string(levelName(m.type->level));
  j["message"] = m.text;
  if (m.hasOrigin) {
    j["origin"] = m.origin.friendlyName();
    const std::string ref = m.origin.reference();
    if (!ref.empty()) j["reference"] = ref;
  }
  return j;
}

// A YAML scalar, quoted the way a YAML marshaller does when the plain form would be misread.
std::string yamlScalar(const std::string& s) {
  bool plain = !s.empty() && s.find(": ") == std::string::npos &&
               s.find(" #") == std::string::npos && s.back() != ':' && s.front() != ' ' &&
               s.back() != ' ' && std::string("-?:,[]{}#&*!|>'\"%@`").find(s.front()) ==
                                      std::string::npos;
  for (char c : s) plain = plain && c != '\n' && c != '\t';
  static const char* ambiguous[] = {"true", "false", "yes", "no", "on", "off", "null", "~"};
  for (const char* a : ambiguous) plain = plain && s != a;
  if (plain) return s;
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "''";
    else if (c == '\n') out += " ";
    else out += c;
  }
  return out + "'";
}

std::string renderYaml(const std::vector<Message>& messages) {
  if (messages.empty()) return "[]\n";
  std::string out;
  for (const Message& m : messages) {
    const nlohmann::json j = toJson(m);
    bool first = true;
    for (const auto& [key, value] : j.items()) {
      out += (first ? "- " : "  ") + key + ": " + yamlScalar(value.get<std::string>()) + "\n";
      first = false;
    }
  }
  return out;
}

}  // namespace

bool parseFormat(std::string_view name, Format& out) {
  if (name == "log") out = Format::log;
  else if (name == "json") out = Format::json;
  else if (name == "yaml") out = Format::yaml;
  else return false;
  return true;
}

std::string render(const std::vector<Message>& messages, Format format, bool color) {
  switch (format) {
    case Format::log: return renderLog(messages, color);
    case Format::yaml: return renderYaml(messages);
    case Format::json: {
      nlohmann::json list = nlohmann::json::array();
      for (const Message& m : messages) list.push_back(toJson(m));
      return list.dump(1, '\t') + "\n";
    }
  }
  return "";
}

}  // namespace mesh::pilot::analysis
