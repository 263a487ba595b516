#include <catch2/catch.hpp>

#include <vector>

#include "pilot/source/file_source.h"
#include "tests/unit/loop/loop_fixture.h"
#include "tests/unit/pilot/pilot_fixture.h"

using namespace mesh;
using namespace std::chrono_literals;

namespace {

std::string service(const std::string& name, int port) {
  std::string out = "apiVersion: v1\nkind: Service\nmetadata:\n  name: ";
  out += name;
  out += "\nspec:\n  ports:\n  - port: ";
  out += std::to_string(port);
  out += "\n    name: http\n";
  return out;
}

struct Loads {
  std::vector<pilot::ConfigSetPtr> sets;
  pilot::FileSource::Callback callback() {
    return [this](pilot::ConfigSetPtr set, std::uint64_t) { sets.push_back(std::move(set)); };
  }
};

}  // namespace

TEST_CASE_METHOD(test::LoopFixture, "the config dir is loaded recursively and reloaded after a change",
                 "[pilot][source]") {
  test::ConfigDir dir;
  dir.write("a.yaml", service("a", 80));
  dir.write("nested/deeper/b.json",
            R"({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "b"},
                "spec": {"ports": [{"port": 81, "name": "http"}]}})");
  Loads loads;
  {
    pilot::FileSource source(loop, {dir.path(), 50ms, 10s}, loads.callback());
    REQUIRE(source.start().ok());
    REQUIRE(loads.sets.size() == 1);
    CHECK(loads.sets[0]->resources.size() == 2);
    CHECK(source.watchedDirectories() == 3);

    dir.write("nested/deeper/c.yaml", service("c", 82));
    runUntil([&] { return loads.sets.size() == 2; });
    CHECK(loads.sets[1]->resources.size() == 3);
    CHECK(source.filesParsedLastLoad() == 1);  // the two unchanged files came from the cache

    // A directory made after start is watched too.
    std::filesystem::create_directories(dir.path() + "/later");
    runUntil([&] { return loads.sets.size() == 3; });
    dir.write("later/d.yaml", service("d", 83));
    runUntil([&] { return loads.sets.size() == 4; });
    CHECK(loads.sets[3]->resources.size() == 4);
  }
}

TEST_CASE_METHOD(test::LoopFixture, "a burst of writes becomes one load", "[pilot][source]") {
  test::ConfigDir dir;
  dir.write("a.yaml", service("a", 80));
  Loads loads;
  pilot::FileSource source(loop, {dir.path(), 200ms, 10s}, loads.callback());
  REQUIRE(source.start().ok());
  for (int i = 0; i < 10; ++i) {
    std::string name = "s";
    name += std::to_string(i);
    dir.write(name + ".yaml", service(name, 90 + i));
  }
  runUntil([&] { return loads.sets.size() >= 2; });
  // Nothing more arrives once the burst has been read.
  core::runUntil(loop, [] { return false; }, 400ms);
  REQUIRE(loads.sets.size() == 2);
  CHECK(loads.sets[1]->resources.size() == 11);
}

TEST_CASE_METHOD(test::LoopFixture, "changes that never stop are loaded after the maximum delay",
                 "[pilot][source]") {
  test::ConfigDir dir;
  dir.write("a.yaml", service("a", 80));
  Loads loads;
  pilot::FileSource source(loop, {dir.path(), 150ms, 400ms}, loads.callback());
  REQUIRE(source.start().ok());
  core::Timer writer(loop);
  int writes = 0;
  writer.startRepeating(50ms, [&] { dir.write("a.yaml", service("a", 80 + (++writes % 50))); });
  auto start = std::chrono::steady_clock::now();
  runUntil([&] { return loads.sets.size() >= 2; });
  auto waited = std::chrono::steady_clock::now() - start;
  writer.stop();
  // The quiet period never came (a write every 50 ms < 150 ms), yet the load happened.
  CHECK(waited < 2s);
  CHECK(writes >= 6);
}

TEST_CASE_METHOD(test::LoopFixture, "a missing config dir is an error", "[pilot][source]") {
  Loads loads;
  pilot::FileSource source(loop, {"/nonexistent/mesh-pilot", 100ms, 10s}, loads.callback());
  CHECK(source.start().code() == core::Code::not_found);
  CHECK(loads.sets.empty());
}
