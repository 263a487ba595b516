// StringMatcher: one Istio StringMatch (exact / prefix / regex) compiled once when a snapshot
// is loaded, so that matching a request allocates nothing and never recompiles a regex.
// Regexes are ECMAScript and must match the whole input, as Envoy's safe_regex does.
#pragma once

#include <memory>
#include <regex>
#include <string>
#include <string_view>

#include "core/base/status.h"
#include "core/model/route.h"

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
  // Shared: a compiled route table is copied into no one, but matchers live in vectors.
  std::shared_ptr<const std::regex> regex_;
};

}  // namespace mesh::proxy
