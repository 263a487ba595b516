// A path to a field inside a resource, kept in two spellings at once: the JSON pointer that
// finds its position ("/spec/http/0/route") and the form people read in an error
// ("spec.http[0].route"). Validators build these as they descend.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mesh::core::config {

class FieldPath {
 public:
  FieldPath() = default;

  // The path a JSON pointer names; all-digit tokens are read as list indexes.
  static FieldPath fromPointer(std::string_view pointer);

  FieldPath field(std::string_view name) const;
  FieldPath index(std::size_t i) const;

  const std::string& pointer() const { return pointer_; }
  const std::string& display() const { return display_; }

  // JSON pointer escaping of one reference token: "~" -> "~0", "/" -> "~1".
  static void appendPointerToken(std::string& out, std::string_view token);

 private:
  std::string pointer_;
  std::string display_;
};

}  // namespace mesh::core::config
