// Regex: an ECMAScript regular expression compiled once, matched against whole strings (as
// Envoy's safe_regex) and used for rewrites. It hides <regex> behind a small interface so
// that only regex.cpp instantiates it: libstdc++ 12's <regex> trips -Wmaybe-uninitialized
// under the sanitizer build, and that file alone is compiled with the warning off.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/base/status.h"

namespace mesh::proxy {

class Regex {
 public:
  static core::Result<Regex> compile(const std::string& pattern, bool ignoreCase = false);
  Regex(const Regex&) = default;
  Regex& operator=(const Regex&) = default;
  ~Regex();

  bool fullMatch(std::string_view input) const;
  // Every match replaced by `format` ($1, $2... are the groups).
  std::string replace(std::string_view input, const std::string& format) const;

 private:
  struct Impl;
  explicit Regex(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;  // immutable, shared by copies and threads
};

}  // namespace mesh::proxy
