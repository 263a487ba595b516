#include "core/config/duration.h"

#include <cstdint>
#include <string>

namespace mesh::core::config {
namespace {

struct Unit {
  std::string_view name;
  std::int64_t nanos;
};

constexpr Unit kUnits[] = {
    {"ns", 1},
    {"us", 1'000},
    {"\xC2\xB5s", 1'000},  // U+00B5 micro sign
    {"\xCE\xBCs", 1'000},  // U+03BC Greek mu
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"h", 3'600'000'000'000},
};

constexpr std::int64_t kMaxNanos = INT64_MAX;

Status bad(std::string_view text, std::string_view why) {
  return error(Code::invalid,
               "invalid duration \"" + std::string(text) + "\": " + std::string(why));
}

}  // namespace

Result<std::chrono::milliseconds> parseDuration(std::string_view text) {
  std::string_view rest = text;
  if (rest.empty()) return bad(text, "empty");
  if (rest.front() == '-') return bad(text, "must not be negative");
  if (rest.front() == '+') rest.remove_prefix(1);
  if (rest == "0") return std::chrono::milliseconds(0);
  if (rest.empty()) return bad(text, "expected a number and a unit such as \"10s\"");

  // Accumulate in nanoseconds as a long double so "1.5s" and "1h30m" stay exact enough.
  long double total = 0;
  while (!rest.empty()) {
    std::size_t i = 0;
    long double value = 0;
    bool digits = false;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
      value = value * 10 + (rest[i++] - '0');
      digits = true;
    }
    if (i < rest.size() && rest[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
        value += (rest[i++] - '0') * scale;
        scale /= 10;
        digits = true;
      }
    }
    if (!digits) return bad(text, "expected a number and a unit such as \"10s\"");
    rest.remove_prefix(i);
    // The unit runs to the next number: "1h30m" is "h" then "m"; "2sec" is "sec".
    std::size_t unitEnd = 0;
    while (unitEnd < rest.size() && rest[unitEnd] != '.' &&
           !(rest[unitEnd] >= '0' && rest[unitEnd] <= '9')) {
      ++unitEnd;
    }
    std::string_view name = rest.substr(0, unitEnd);
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (name == u.name) unit = &u;
    }
    if (unit == nullptr) {
      return bad(text, name.empty() ? "missing unit (ns, us, ms, s, m or h)"
                                    : "unknown unit (use ns, us, ms, s, m or h)");
    }
    rest.remove_prefix(unit->name.size());
    total += value * unit->nanos;
    if (total > static_cast<long double>(kMaxNanos)) return bad(text, "too large");
  }
  // Round to the nearest nanosecond to absorb the decimal-fraction error, then insist on
  // whole milliseconds as Istio does.
  auto nanos = static_cast<std::int64_t>(total + 0.5L);
  if (nanos % 1'000'000 != 0) return bad(text, "only durations to ms precision are supported");
  return std::chrono::milliseconds(nanos / 1'000'000);
}

}  // namespace mesh::core::config
