#include "proxy/authz/value_match.h"

#include "core/http/chars.h"

namespace mesh::proxy::authz {

namespace {
bool same(std::string_view a, std::string_view b, bool ignoreCase) {
  return ignoreCase ? core::http::equalsIgnoreCase(a, b) : a == b;
}
}  // namespace

ValueMatch::ValueMatch(std::string_view pattern, bool ignoreCase) : ignoreCase_(ignoreCase) {
  if (pattern == "*") {
    kind_ = Kind::any;
  } else if (pattern.size() > 1 && pattern.back() == '*') {
    kind_ = Kind::prefix;
    text_ = pattern.substr(0, pattern.size() - 1);
  } else if (pattern.size() > 1 && pattern.front() == '*') {
    kind_ = Kind::suffix;
    text_ = pattern.substr(1);
  } else {
    text_ = pattern;
  }
}

bool ValueMatch::matches(std::string_view value) const {
  switch (kind_) {
    case Kind::any:
      return !value.empty();
    case Kind::exact:
      return same(value, text_, ignoreCase_);
    case Kind::prefix:
      return value.size() >= text_.size() && same(value.substr(0, text_.size()), text_, ignoreCase_);
    case Kind::suffix:
      return value.size() >= text_.size() &&
             same(value.substr(value.size() - text_.size()), text_, ignoreCase_);
  }
  return false;
}

ValueSet::ValueSet(const std::vector<std::string>& patterns, bool ignoreCase) {
  values_.reserve(patterns.size());
  for (const auto& p : patterns) values_.emplace_back(p, ignoreCase);
}

bool ValueSet::matchesAny(std::string_view value) const {
  for (const auto& v : values_) {
    if (v.matches(value)) return true;
  }
  return false;
}

}  // namespace mesh::proxy::authz
