// ValueMatch: one value of an AuthorizationPolicy field, as Istio writes them: "*" (any
// non-empty value), "prefix*", "*suffix", or an exact value. Compiled once per snapshot so
// that a request check compares strings and allocates nothing.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mesh::proxy::authz {

class ValueMatch {
 public:
  explicit ValueMatch(std::string_view pattern, bool ignoreCase = false);
  bool matches(std::string_view value) const;

 private:
  enum class Kind { any, exact, prefix, suffix };
  Kind kind_ = Kind::exact;
  std::string text_;
  bool ignoreCase_ = false;
};

// A field's values: matches when any of them matches.
class ValueSet {
 public:
  ValueSet() = default;
  ValueSet(const std::vector<std::string>& patterns, bool ignoreCase = false);
  bool empty() const { return values_.empty(); }
  bool matchesAny(std::string_view value) const;

 private:
  std::vector<ValueMatch> values_;
};

}  // namespace mesh::proxy::authz
