// A Catch2 fixture for every test that uses a loop: it owns the Loop and, when the test ends
// (after the test's own objects are destroyed), runs the loop dry and fails the test if a
// handle is still open. Use it as TEST_CASE_METHOD(LoopFixture, "...", "[tag]").
#pragma once

#include <catch2/catch.hpp>

#include <functional>
#include <string>

#include "core/loop/leak_check.h"
#include "core/loop/loop.h"

namespace mesh::test {

class LoopFixture {
 public:
  LoopFixture() = default;
  ~LoopFixture() {
    auto live = core::liveHandles(loop);
    std::string names;
    for (const auto& name : live) names += name + " ";
    INFO("handles left open at the end of the test: " << names);
    CHECK(live.empty());
    if (afterLeakCheck) afterLeakCheck();
  }
  LoopFixture(const LoopFixture&) = delete;
  LoopFixture& operator=(const LoopFixture&) = delete;

  // Runs the loop until `done()` or a 10 s limit; fails the test on the limit.
  template <typename Predicate>
  void runUntil(Predicate done) {
    REQUIRE(core::runUntil(loop, done));
  }

  core::Loop loop;
  // Runs after the check, before the Loop goes: lets a test that leaks on purpose clean up.
  std::function<void()> afterLeakCheck;
};

}  // namespace mesh::test
