#include "core/config/resource.h"

#include <algorithm>

namespace mesh::core::config {

void PositionTable::add(std::string_view pointer, Position position) {
  entries_.push_back({static_cast<std::uint32_t>(text_.size()),
                      static_cast<std::uint32_t>(pointer.size()), position});
  text_.append(pointer);
}

void PositionTable::seal() {
  std::sort(entries_.begin(), entries_.end(),
            [this](const Entry& a, const Entry& b) { return pointerOf(a) < pointerOf(b); });
  entries_.shrink_to_fit();
  text_.shrink_to_fit();
}

Position PositionTable::find(std::string_view pointer) const {
  while (true) {
    auto it = std::lower_bound(
        entries_.begin(), entries_.end(), pointer,
        [this](const Entry& entry, std::string_view p) { return pointerOf(entry) < p; });
    if (it != entries_.end() && pointerOf(*it) == pointer) return it->position;
    if (pointer.empty()) return {};
    pointer = pointer.substr(0, pointer.rfind('/'));
  }
}

std::string Resource::group() const {
  auto slash = apiVersion.find('/');
  return slash == std::string::npos ? std::string() : apiVersion.substr(0, slash);
}

std::string Resource::version() const {
  auto slash = apiVersion.find('/');
  return slash == std::string::npos ? apiVersion : apiVersion.substr(slash + 1);
}

std::string Resource::ref() const { return kind + " " + ns + "/" + name; }

int Resource::lineOf(std::string_view pointer) const {
  int found = positions.find(pointer).line;
  return found > 0 ? found : line;
}

std::string ConfigError::toString() const {
  std::string out = file;
  if (line > 0) {
    out += ':';
    out += std::to_string(line);
    if (column > 0) {
      out += ':';
      out += std::to_string(column);
    }
  }
  out += ": ";
  if (!kind.empty()) {
    out += kind;
    if (!name.empty()) {
      out += ' ';
      out += ns.empty() ? std::string("default") : ns;
      out += '/';
      out += name;
    }
    out += ": ";
  }
  if (!field.empty()) {
    out += field;
    out += ": ";
  }
  out += message;
  return out;
}

std::string SkippedNote::toString() const {
  std::string out = file + ":" + std::to_string(line) + ": skipped " + kind;
  if (!name.empty()) out += " " + name;
  out += " (" + apiVersion + "): not a kind mesh reads";
  return out;
}

std::string formatErrors(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const auto& e : errors) {
    out += e.toString();
    out += '\n';
  }
  return out;
}

}  // namespace mesh::core::config
