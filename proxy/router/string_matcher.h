// StringMatcher: one Istio StringMatch (exact / prefix / regex) compiled once when a snapshot
// is loaded, so that matching a request allocates nothing and never recompiles a regex.
// Regexes are ECMAScript and must match the whole input, as Envoy's safe_regex does.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/base/status.h"
#include "core/model/route.h"
#include "proxy/router/regex.h"

namespace mesh::proxy {

class StringMatcher {
 public:
  // Fails on a regex that does not compile; the message quotes it.
  static core::Result<StringMatcher> compile(const core::model::StringMatch& match,
                                             bool ignoreCase = false);

  bool matches(std::string_view input) const;
  core::model::StringMatch::Kind kind() const { return kind_; }
  const std::string& value() const { return value_; }

 private:
  core::model::StringMatch::Kind kind_ = core::model::StringMatch::Kind::exact;
  std::string value_;
  bool ignoreCase_ = false;
  std::optional<Regex> regex_;
};

}  // namespace mesh::proxy
