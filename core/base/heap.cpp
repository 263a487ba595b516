#include "core/base/heap.h"

#include <malloc.h>

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

bool releaseFreeHeap() { return ::malloc_trim(0) != 0; }

std::size_t freeHeapBytes() { return ::mallinfo2().fordblks; }

}  // namespace mesh::core
