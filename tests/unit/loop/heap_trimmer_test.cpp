#include "core/loop/heap_trimmer.h"

#include <catch2/catch.hpp>

#include "core/loop/timer.h"
#include "tests/unit/loop/loop_fixture.h"

using namespace mesh::core;
using namespace std::chrono_literals;
using mesh::test::LoopFixture;

TEST_CASE_METHOD(LoopFixture, "HeapTrimmer trims once after a burst has settled", "[loop][heap]") {
  HeapTrimmer trimmer(loop, 20ms);
  Timer tick(loop), done(loop);
  int work = 0;
  // Five pieces of work 5 ms apart: each restarts the settle time, so no trim in between.
  tick.startRepeating(5ms, [&] {
    trimmer.afterWork();
    if (++work == 5) tick.stop();
  });
  runUntil([&] { return work == 5; });
  CHECK(trimmer.trims() == 0);
  runUntil([&] { return trimmer.trims() == 1; });
  bool waited = false;
  done.start(40ms, [&] { waited = true; });
  runUntil([&] { return waited; });
  CHECK(trimmer.trims() == 1);
}
