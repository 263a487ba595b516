#include "core/base/heap.h"

#include <malloc.h>
#include <pthread.h>
#include <sys/mman.h>

#include <cstdint>

namespace mesh::core {

namespace {

// glibc's own starting values. Setting them explicitly is what stops the dynamic raise.
constexpr int kMmapThreshold = 128 * 1024;
constexpr int kTrimThreshold = 128 * 1024;

}  // namespace

void configureHeap() {
  ::mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
  // Free memory above this at the top of the heap goes back at once; the dynamic scheme
  // would have raised it along with the mmap threshold.
  ::mallopt(M_TRIM_THRESHOLD, kTrimThreshold);
}

// Under a sanitizer glibc's arenas hold nothing of ours, and they are not even set up: the
// first call into them initialises them, which is not safe from two threads at once (two
// proxy workers' trimmers did it together and crashed in mallinfo2). So they are left alone.
bool releaseFreeHeap() { return kGlibcMalloc && ::malloc_trim(0) != 0; }

void releaseHeapTop() {
  // Below the mmap threshold, so the block comes from the arena (its top, unless a free chunk
  // as large sits lower, whose pages are as free). While the block is ours nothing else reads
  // or writes its middle; glibc keeps its bookkeeping in the first and last bytes of a chunk,
  // so the pages strictly inside go back and the free merges the block into the top again,
  // clean. Where the top was smaller, the arena grows into pages never touched.
  constexpr std::size_t kPage = 4096;
  constexpr std::size_t kBorrow = kMmapThreshold - 64;
  void* block = ::malloc(kBorrow);
  if (block == nullptr) return;
  auto at = reinterpret_cast<std::uintptr_t>(block);
  std::uintptr_t begin = (at + 64 + kPage - 1) & ~(kPage - 1);
  std::uintptr_t end = (at + kBorrow) & ~(kPage - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
  ::free(block);
}

std::size_t freeHeapBytes() { return kGlibcMalloc ? ::mallinfo2().fordblks : 0; }

HeapUsage heapUsage() {
  if (!kGlibcMalloc) return {};
  struct mallinfo2 m = ::mallinfo2();
  return {.allocated = m.uordblks + m.hblkhd,
          .heapSize = m.arena + m.hblkhd,
          .free = m.fordblks,
          .mapped = m.hblkhd,
          .arenas = m.arena};
}

bool releaseUnusedStack() {
  pthread_attr_t attr;
  if (::pthread_getattr_np(::pthread_self(), &attr) != 0) return false;
  void* low = nullptr;
  std::size_t size = 0;
  int rc = ::pthread_attr_getstack(&attr, &low, &size);
  ::pthread_attr_destroy(&attr);
  if (rc != 0 || low == nullptr) return false;
  // Below this frame, past a margin for what this function and the madvise call use (and the
  // 128-byte red zone below the stack pointer), nothing is live.
  constexpr std::uintptr_t kPage = 4096;
  constexpr std::uintptr_t kMargin = 4 * kPage;
  char here = 0;
  auto sp = reinterpret_cast<std::uintptr_t>(&here);
  auto begin = (reinterpret_cast<std::uintptr_t>(low) + kPage - 1) & ~(kPage - 1);
  if (sp < begin + kMargin) return true;
  auto end = (sp - kMargin) & ~(kPage - 1);
  // For the main thread the range reaches below the mapped stack, into space the stack may
  // grow into: madvise skips what is not mapped (and says ENOMEM, which changes nothing).
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
  return true;
}

}  // namespace mesh::core
