#include <catch2/catch.hpp>

#include "core/config/duration.h"

using mesh::core::config::parseDuration;
using std::chrono::milliseconds;

namespace {
long long ms(const char* text) {
  auto d = parseDuration(text);
  INFO(text << ": " << d.status().toString());
  REQUIRE(d.ok());
  return d->count();
}
std::string why(const char* text) {
  auto d = parseDuration(text);
  REQUIRE_FALSE(d.ok());
  return d.status().message();
}
}  // namespace

TEST_CASE("durations in Istio's spellings parse to milliseconds", "[config]") {
  CHECK(ms("1.5s") == 1500);
  CHECK(ms("100ms") == 100);
  CHECK(ms("2m") == 120000);
  CHECK(ms("1h") == 3600000);
  CHECK(ms("1h30m") == 5400000);
  CHECK(ms("0") == 0);
  CHECK(ms("0s") == 0);
  CHECK(ms("2000us") == 2);
  CHECK(ms(".5s") == 500);
  CHECK(ms("0.001s") == 1);
  CHECK(ms("1000000ns") == 1);
}

TEST_CASE("bad durations say what is wrong", "[config]") {
  CHECK(why("10") == "invalid duration \"10\": missing unit (ns, us, ms, s, m or h)");
  CHECK(why("10 s") == "invalid duration \"10 s\": unknown unit (use ns, us, ms, s, m or h)");
  CHECK(why("1d") == "invalid duration \"1d\": unknown unit (use ns, us, ms, s, m or h)");
  CHECK(why("-1s") == "invalid duration \"-1s\": must not be negative");
  CHECK(why("") == "invalid duration \"\": empty");
  CHECK(why("s") == "invalid duration \"s\": expected a number and a unit such as \"10s\"");
  CHECK(why("1.2345s") ==
        "invalid duration \"1.2345s\": only durations to ms precision are supported");
  CHECK(why("999999999999h") == "invalid duration \"999999999999h\": too large");
}
