#include "core/loop/heap_trimmer.h"

#include "core/base/heap.h"

#include <catch2/catch.hpp>

#include <memory>
#include <vector>

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

TEST_CASE_METHOD(LoopFixture, "A periodic HeapTrimmer trims when much was freed, not while idle",
                 "[loop][heap]") {
  HeapTrimmer trimmer(loop);
  trimmer.every(5ms);
  Timer done(loop);
  bool waited = false;
  auto wait = [&](std::chrono::milliseconds ms) {
    waited = false;
    done.start(ms, [&] { waited = true; });
    runUntil([&] { return waited; });
  };
  wait(30ms);  // whatever the test binary left free so far
  unsigned before = trimmer.trims();
  wait(30ms);
  CHECK(trimmer.trims() == before);  // nothing changed: no walk of the free lists
  if (!mesh::core::kGlibcMalloc) return;  // nothing free in glibc's heap to trim
  {
    // 1 MiB in small blocks, all freed but every 16th: the survivors keep the rest inside
    // the heap, where glibc does not give it back by itself.
    std::vector<std::unique_ptr<char[]>> blocks(1024);
    for (auto& b : blocks) b.reset(new char[1000]);
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      if (i % 16 != 15) blocks[i].reset();
    }
    INFO("free in the heap: " << mesh::core::freeHeapBytes());
    wait(30ms);
    CHECK(trimmer.trims() > before);
  }
}
