#include "proxy/router/string_matcher.h"

#include "core/http/chars.h"

namespace mesh::proxy {

using core::model::StringMatch;

core::Result<StringMatcher> StringMatcher::compile(const StringMatch& match, bool ignoreCase) {
  StringMatcher m;
  m.kind_ = match.kind;
  m.value_ = match.value;
  m.ignoreCase_ = ignoreCase;
  if (match.kind == StringMatch::Kind::regex) {
    auto re = Regex::compile(match.value, ignoreCase);
    if (!re.ok()) return re.status();
    m.regex_ = std::move(*re);
  }
  return m;
}

bool StringMatcher::matches(std::string_view input) const {
  switch (kind_) {
    case StringMatch::Kind::exact:
      return ignoreCase_ ? core::http::equalsIgnoreCase(input, value_) : input == value_;
    case StringMatch::Kind::prefix:
      if (input.size() < value_.size()) return false;
      return ignoreCase_ ? core::http::equalsIgnoreCase(input.substr(0, value_.size()), value_)
                         : input.substr(0, value_.size()) == value_;
    case StringMatch::Kind::regex:
      return regex_->fullMatch(input);
  }
  return false;
}

}  // namespace mesh::proxy
