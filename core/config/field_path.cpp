#include "core/config/field_path.h"

#include <algorithm>

namespace mesh::core::config {
namespace {

// Names that read unambiguously after a dot; anything else (label keys such as
// "app.kubernetes.io/name", header names with odd characters) is written as ["..."].
bool plainName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

void FieldPath::appendPointerToken(std::string& out, std::string_view token) {
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
}

FieldPath FieldPath::fromPointer(std::string_view pointer) {
  FieldPath path;
  while (!pointer.empty()) {
    pointer.remove_prefix(1);  // the '/'
    std::size_t end = std::min(pointer.find('/'), pointer.size());
    std::string token;
    for (std::size_t i = 0; i < end; ++i) {
      if (pointer[i] == '~' && i + 1 < end && (pointer[i + 1] == '0' || pointer[i + 1] == '1')) {
        token += pointer[++i] == '0' ? '~' : '/';
      } else {
        token += pointer[i];
      }
    }
    pointer.remove_prefix(end);
    bool index = !token.empty() && token.size() < 10 &&
                 token.find_first_not_of("0123456789") == std::string::npos;
    path = index ? path.index(std::stoul(token)) : path.field(token);
  }
  return path;
}

FieldPath FieldPath::field(std::string_view name) const {
  FieldPath child = *this;
  child.pointer_ += '/';
  appendPointerToken(child.pointer_, name);
  if (plainName(name)) {
    if (!child.display_.empty()) child.display_ += '.';
    child.display_ += name;
  } else {
    child.display_ += "[\"";
    for (char c : name) {
      if (c == '"' || c == '\\') child.display_ += '\\';
      child.display_ += c;
    }
    child.display_ += "\"]";
  }
  return child;
}

FieldPath FieldPath::index(std::size_t i) const {
  FieldPath child = *this;
  child.pointer_ += '/';
  child.pointer_ += std::to_string(i);
  child.display_ += '[';
  child.display_ += std::to_string(i);
  child.display_ += ']';
  return child;
}

}  // namespace mesh::core::config
