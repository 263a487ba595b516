#include <catch2/catch.hpp>

#include "pilot/kube/yaml_docs.h"

namespace kube = mesh::pilot::kube;

TEST_CASE("splitting keeps every byte, and separators start documents") {
  const std::string input =
      "# leading comment\na: 1\n---\nb: 2\n--- # note\nc: 3\n---\n\n...\n---x: not a marker\n";
  auto docs = kube::splitDocuments(input);
  REQUIRE(docs.size() == 4);
  std::string joined;
  for (const auto& d : docs) joined += d.separator + d.text;
  CHECK(joined == input);
  CHECK(docs[0].separator.empty());
  CHECK(docs[1].text == "b: 2\n");
  CHECK(docs[2].separator == "--- # note\n");
  CHECK(docs[2].firstLine == 6);
  CHECK(kube::isEmptyDocument("\n# only a comment\n...\n"));
  CHECK_FALSE(kube::isEmptyDocument(docs[3].text));  // "---x" is content, not a marker
}

TEST_CASE("input without a trailing newline survives the split") {
  auto docs = kube::splitDocuments("a: 1\n---\nb: 2");
  REQUIRE(docs.size() == 2);
  CHECK(docs[1].text == "b: 2");
}

TEST_CASE("emitting keeps quoted strings strings and multi-line strings exact") {
  YAML::Node node =
      YAML::Load("a: \"true\"\nb: true\nc: '8080'\nd: 8080\ne: |\n  one\n  two\nf: plain text\n");
  node["g"] = kube::quotedScalar("15090");
  YAML::Node back = YAML::Load(kube::emitYaml(node));
  CHECK(back["a"].Tag() == "!");  // still a quoted string
  CHECK(back["b"].Tag() == "?");  // still a plain boolean
  CHECK(back["c"].Tag() == "!");
  CHECK(back["d"].Tag() == "?");
  CHECK(back["e"].as<std::string>() == "one\ntwo\n");
  CHECK(back["f"].as<std::string>() == "plain text");
  CHECK(back["g"].Tag() == "!");
  CHECK(back["g"].as<std::string>() == "15090");
}
