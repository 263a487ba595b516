// How YAML becomes JSON: Kubernetes' typing of plain scalars, and the limits that keep
// hostile files from costing unbounded memory.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "core/config/loader.h"

using namespace mesh::core::config;

namespace {

// A Service passes fields it does not know, so `extra` comes through as converted.
LoadResult service(const std::string& extra) {
  LoadResult r;
  loadText("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  extra:\n" + extra,
           "s.yaml", r);
  return r;
}

}  // namespace

TEST_CASE("plain scalars are typed as Kubernetes types them; quoted ones stay strings",
          "[config]") {
  LoadResult r = service(
      "    int: 42\n"
      "    negative: -7\n"
      "    hex: 0x1f\n"
      "    octal: 0755\n"
      "    float: 1.5\n"
      "    exp: 1e3\n"
      "    yes: yes\n"
      "    off: Off\n"
      "    true: True\n"
      "    nothing: ~\n"
      "    empty:\n"
      "    quoted: \"42\"\n"
      "    single: 'true'\n"
      "    tagged: !!str 7\n"
      "    version: 1.0.0\n"
      "    block: |\n"
      "      two\n"
      "      lines\n"
      "    big: 18446744073709551615\n");
  INFO(formatErrors(r.errors));
  REQUIRE(r.resources.size() == 1);
  const auto& x = r.resources[0].spec["extra"];
  CHECK(x["int"] == 42);
  CHECK(x["negative"] == -7);
  CHECK(x["hex"] == 31);
  CHECK(x["octal"] == 493);
  CHECK(x["float"] == 1.5);
  CHECK(x["exp"] == 1000.0);
  CHECK(x["yes"] == true);
  CHECK(x["off"] == false);
  CHECK(x["true"] == true);
  CHECK(x["nothing"].is_null());
  CHECK(x["empty"].is_null());
  CHECK(x["quoted"] == "42");
  CHECK(x["single"] == "true");
  CHECK(x["tagged"] == "7");
  CHECK(x["version"] == "1.0.0");
  CHECK(x["block"] == "two\nlines\n");
  CHECK(x["big"].is_number_unsigned());
}

TEST_CASE("an alias bomb is refused instead of expanded", "[config]") {
  std::string bomb = "    a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char name = 'b'; name <= 'i'; ++name) {
    bomb += std::string("    ") + name + ": &" + name + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", *" : "*") + prev;
    bomb += "]\n";
    prev = name;
  }
  LoadResult r = service(bomb);  // 10^9 values if expanded
  CHECK(r.resources.empty());
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].message == "more than 200000 values (after expanding aliases)");
  CHECK(r.errors[0].kind == "Service");
}

TEST_CASE("deep nesting is refused, not recursed into without bound", "[config]") {
  // Deeper than the loader converts...
  LoadResult r = service("    d: " + std::string(200, '[') + std::string(200, ']') + "\n");
  CHECK(r.resources.empty());
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].message == "nested deeper than 128 levels");
  // ...and deeper than yaml-cpp parses.
  r = service("    d: " + std::string(5000, '[') + std::string(5000, ']') + "\n");
  CHECK(r.resources.empty());
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].message == "nested too deeply");
  CHECK(r.errors[0].line == 6);
}

TEST_CASE("a document that is not a mapping is an error at its line", "[config]") {
  LoadResult r;
  loadText("---\njust a string\n---\n- a\n- list\n", "odd.yaml", r);
  REQUIRE(r.errors.size() == 2);
  CHECK(r.errors[0].toString() ==
        "odd.yaml:2: a resource must be a mapping with apiVersion, kind and metadata");
  CHECK(r.errors[1].line == 4);
}

TEST_CASE("text that is not UTF-8 is an error, so every loaded resource serialises",
          "[config]") {
  LoadResult r;
  loadText("apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  labels:\n    app: caf\xe9\n",
           "latin1.yaml", r);
  loadText("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {x: \"\\ud800\"}\n",
           "surrogate.yaml", r);
  loadText("apiVersion: v1\nkind: Conf\xffigMap\nmetadata: {name: s}\n", "kind.yaml", r);
  CHECK(r.resources.empty());
  REQUIRE(r.errors.size() == 2);
  CHECK(r.errors[0].toString() ==
        "latin1.yaml:6: Service default/s: metadata.labels.app: not valid UTF-8");
  CHECK(r.errors[1].toString() == "surrogate.yaml:4:18: invalid unicode: 55296");  // yaml-cpp's
  REQUIRE(r.skipped.size() == 1);
  CHECK(r.skipped[0].kind == "Conf\xEF\xBF\xBDigMap");
}
