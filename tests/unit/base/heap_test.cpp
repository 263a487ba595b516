#include "core/base/heap.h"

#include <catch2/catch.hpp>

#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

namespace {

// This process's dirty anonymous kB, from /proc/self/smaps_rollup; -1 without /proc.
long privateDirtyKb() {
  std::FILE* f = std::fopen("/proc/self/smaps_rollup", "r");
  if (!f) return -1;
  long kb = -1;
  char line[256];
  while (std::fgets(line, sizeof line, f)) {
    if (std::sscanf(line, "Private_Dirty: %ld kB", &kb) == 1) break;
  }
  std::fclose(f);
  return kb;
}

}  // namespace

TEST_CASE("releaseFreeHeap gives back the free pages that live blocks pin inside the heap") {
  mesh::core::configureHeap();
  // 4 MiB in small blocks, written, then all freed but every 64th: the survivors keep the
  // heap from shrinking at its top, so the free pages between them stay dirty until trimmed.
  constexpr int kBlocks = 4096;
  std::vector<std::unique_ptr<char[]>> blocks(kBlocks);
  for (auto& b : blocks) {
    b.reset(new char[1024]);
    for (int i = 0; i < 1024; i += 64) b[i] = 1;
  }
  for (int i = 0; i < kBlocks; ++i) {
    if (i % 64 != 63) blocks[i].reset();
  }
  long before = privateDirtyKb();
  if (before < 0 || !mesh::core::kGlibcMalloc) return;  // nothing to measure
  CHECK(mesh::core::releaseFreeHeap());
  long after = privateDirtyKb();
  INFO("dirty before " << before << " kB, after " << after << " kB");
  CHECK(before - after >= 2048);
  for (auto& b : blocks) {
    if (b) CHECK(b[0] == 1);  // the live blocks are untouched
  }
}

TEST_CASE("releaseHeapTop gives back the free pages at the top of a thread's arena") {
  if (!mesh::core::kGlibcMalloc || privateDirtyKb() < 0) return;  // nothing to measure
  mesh::core::configureHeap();
  long before = 0, after = 0;
  std::thread([&] {
    // The test runner's MALLOC_PERTURB_ has glibc write over every block it hands out or takes
    // back, which dirties the very pages this gives back: off while measuring.
    const char* perturb = std::getenv("MALLOC_PERTURB_");
    ::mallopt(M_PERTURB, 0);
    // 256 KiB in small blocks after one that stays, written, then freed: they go back into
    // the top of this thread's arena, which glibc shrinks to its 128 KiB padding and no less.
    auto stays = std::make_unique<char[]>(64);
    std::vector<std::unique_ptr<char[]>> blocks(256);
    for (auto& b : blocks) {
      b.reset(new char[1000]);
      for (int i = 0; i < 1000; i += 64) b[i] = 1;
    }
    blocks.clear();
    before = privateDirtyKb();
    mesh::core::releaseHeapTop();
    after = privateDirtyKb();
    ::mallopt(M_PERTURB, perturb ? std::atoi(perturb) : 0);
    stays[0] = 1;  // still usable
  }).join();
  INFO("dirty before " << before << " kB, after " << after << " kB");
  CHECK(before - after >= 96);
}

namespace {

// Touches `kb` KiB of stack below the caller's frame, then returns `kb`.
[[gnu::noinline]] int goDeep(int kb) {
  volatile char page[1024];
  page[0] = 1;
  page[1023] = 1;
  return kb <= 1 ? page[1023] : goDeep(kb - 1) + page[0];
}

}  // namespace

TEST_CASE("releaseUnusedStack gives back the stack a deep call left dirty") {
  REQUIRE(goDeep(1024) == 1024);  // 1 MiB below this frame, dirty from now on
  long before = privateDirtyKb();
  if (before < 0) return;  // nothing to measure
  CHECK(mesh::core::releaseUnusedStack());
  long after = privateDirtyKb();
  INFO("dirty before " << before << " kB, after " << after << " kB");
  CHECK(before - after >= 768);
  CHECK(goDeep(256) == 256);  // and the stack still works below
}
