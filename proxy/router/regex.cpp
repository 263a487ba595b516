#include "proxy/router/regex.h"

#include <regex>

namespace mesh::proxy {

struct Regex::Impl {
  std::regex re;
};

Regex::~Regex() = default;

core::Result<Regex> Regex::compile(const std::string& pattern, bool ignoreCase) {
  try {
    auto flags = std::regex::ECMAScript | (ignoreCase ? std::regex::icase : std::regex::flag_type{});
    return Regex(std::make_shared<const Impl>(Impl{std::regex(pattern, flags)}));
  } catch (const std::regex_error& e) {
    return core::error(core::Code::invalid, "bad regex \"" + pattern + "\": " + e.what());
  }
}

bool Regex::fullMatch(std::string_view input) const {
  return std::regex_match(input.begin(), input.end(), impl_->re);
}

std::string Regex::replace(std::string_view input, const std::string& format) const {
  return std::regex_replace(std::string(input), impl_->re, format);
}

}  // namespace mesh::proxy
