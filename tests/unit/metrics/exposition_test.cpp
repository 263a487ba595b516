// The format's corner cases: escaping, number formatting, names.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "core/metrics/exposition.h"
#include "core/metrics/registry.h"
#include "tests/unit/metrics/prom_parse.h"

using namespace mesh::core::metrics;
using mesh::test::parseWithPrometheusClient;

TEST_CASE("label values with backslash, quote and newline survive an independent parser",
          "[metrics]") {
  const std::string nasty[] = {
      "back\\slash",
      "quo\"te",
      "new\nline",
      "all three: \\\"\n and a trailing backslash \\",
      "\\n is not a newline",
      "braces } { commas , equals = and # hash",
      "unicode: ünïcødé ✓",
      "",
  };
  Registry registry;
  auto& family = registry.counter("nasty_total", "Help with a \\ backslash\nand a newline.",
                                  {"value"});
  for (std::size_t i = 0; i < std::size(nasty); ++i) family.series({nasty[i]}).inc(i + 1);

  auto parsed = parseWithPrometheusClient(registry.render());
  INFO(registry.render());
  REQUIRE(parsed.ok);
  CHECK(parsed.families["nasty"] == "counter|Help with a \\ backslash\nand a newline.");
  for (std::size_t i = 0; i < std::size(nasty); ++i) {
    std::string key = "nasty_total{value=\"" + nasty[i] + "\"}";
    INFO(key);
    REQUIRE(parsed.samples.count(key) == 1);
    CHECK(parsed.samples[key] == static_cast<double>(i + 1));
  }
}

TEST_CASE("escaping is exactly the three sequences the format defines", "[metrics]") {
  std::string out;
  appendEscapedLabelValue(out, "a\\b\"c\nd\te");
  CHECK(out == "a\\\\b\\\"c\\nd\te");
  out.clear();
  appendEscapedHelp(out, "a\\b\"c\nd");
  CHECK(out == "a\\\\b\"c\\nd");
}

TEST_CASE("values print as integers when integral and round-trip otherwise", "[metrics]") {
  auto text = [](double v) {
    std::string out;
    appendValue(out, v);
    return out;
  };
  CHECK(text(0) == "0");
  CHECK(text(3600000) == "3600000");
  CHECK(text(0.5) == "0.5");
  CHECK(text(-2.25) == "-2.25");
  CHECK(text(0.1) == "0.1");
  CHECK(text(1e300) == "1e+300");
  CHECK(text(INFINITY) == "+Inf");
  CHECK(text(-INFINITY) == "-Inf");
  CHECK(text(NAN) == "NaN");
}

TEST_CASE("metric and label names follow Prometheus' rules", "[metrics]") {
  CHECK(isValidMetricName("istio_requests_total"));
  CHECK(isValidMetricName("job:rate5m"));
  CHECK_FALSE(isValidMetricName("9lives"));
  CHECK_FALSE(isValidMetricName("has-dash"));
  CHECK_FALSE(isValidMetricName(""));
  CHECK(isValidLabelName("response_code"));
  CHECK_FALSE(isValidLabelName("__reserved"));
  CHECK_FALSE(isValidLabelName("a:b"));
  CHECK_FALSE(isValidLabelName("1st"));
}
