// The leak check for tests (libuv's own tests end the same way): run the loop dry, then list
// the handles still open. A test that leaves a handle behind, a connection, a timer, a
// listener, fails:  REQUIRE(mesh::core::liveHandles(loop).empty());
// tests/unit/loop/loop_fixture.h wraps this in a Catch2 fixture.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/loop/loop.h"

namespace mesh::core {

// Runs `loop` until no active handle or request remains, or `timeout` passes, then returns
// the type names ("tcp", "timer", ...) of the handles that are not closed or closing.
// Handles internal to libuv are not listed.
std::vector<std::string> liveHandles(Loop& loop,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(5));

// Runs `loop` until `done()` is true or `timeout` passes; returns done(). For tests.
template <typename Predicate>
bool runUntil(Loop& loop, Predicate done,
              std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Implementation detail of runUntil: one turn of the loop that blocks at most `budget`.
void runTurn(Loop& loop, std::chrono::milliseconds budget);

template <typename Predicate>
bool runUntil(Loop& loop, Predicate done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return done();
    runTurn(loop, left);
  }
  return true;
}

}  // namespace mesh::core
