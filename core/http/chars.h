// Character classes of HTTP/1.1 (RFC 9110 section 5.6) and the checks built on them.
// The parser uses them on bytes from the network; code that adds headers from config or
// from a filter uses them before a header reaches the serialiser, which does not re-check.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace mesh::core::http {

namespace detail {
constexpr std::array<bool, 256> makeTcharTable() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<uint8_t>(c)] = true;
  return t;
}
inline constexpr std::array<bool, 256> kTchar = makeTcharTable();
}  // namespace detail

inline bool isTchar(char c) { return detail::kTchar[static_cast<uint8_t>(c)]; }

// token = 1*tchar: a header name, a method, a transfer coding.
inline bool isToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!isTchar(c)) return false;
  }
  return true;
}

inline bool isValidHeaderName(std::string_view name) { return isToken(name); }

// field-value: visible ASCII, obs-text (0x80-0xff), SP and HTAB; no CR, LF, NUL or other CTL.
inline bool isValidHeaderValue(std::string_view value) {
  for (char ch : value) {
    auto c = static_cast<uint8_t>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

// A request-target as sent on the wire: visible ASCII only (RFC 3986 characters; raw UTF-8,
// spaces and controls must be percent-encoded).
inline bool isValidTargetChar(char ch) {
  auto c = static_cast<uint8_t>(ch);
  return c > 0x20 && c < 0x7f;
}

inline char asciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

inline bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  size_t i = 0;
  // Eight bytes at a time, as header names are compared on every lookup. Equal words need
  // nothing more. Setting bit 5 of every byte folds letters to lower case and keeps bytes
  // that match without case equal, so words that still differ cannot match; words that
  // then agree may differ in a non-letter ('^' and '~'), so their bytes are compared.
  constexpr uint64_t kFold = 0x2020202020202020ULL;
  for (; i + 8 <= a.size(); i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    if (x == y) continue;
    if ((x | kFold) != (y | kFold)) return false;
    for (size_t j = i; j < i + 8; ++j) {
      if (asciiLower(a[j]) != asciiLower(b[j])) return false;
    }
  }
  for (; i < a.size(); ++i) {
    if (asciiLower(a[i]) != asciiLower(b[i])) return false;
  }
  return true;
}

inline bool isOws(char c) { return c == ' ' || c == '\t'; }

inline std::string_view trimOws(std::string_view s) {
  while (!s.empty() && isOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && isOws(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace mesh::core::http
