#include "core/loop/heap_trimmer.h"

#include "core/base/heap.h"

namespace mesh::core {

namespace {

// Less than this free in the heap, or freed since the last trim, is not worth a walk of its
// free lists. (What a trim gave back still counts as free: the chunks stay, without pages.)
constexpr std::size_t kWorthTrimming = 256 * 1024;
constexpr std::size_t kWorthAgain = 64 * 1024;

}  // namespace

HeapTrimmer::HeapTrimmer(Loop& loop, std::chrono::milliseconds settle)
    : timer_(loop), periodic_(loop), settle_(settle) {}

void HeapTrimmer::afterWork() {
  timer_.start(settle_, [this] { trim(); });
}

void HeapTrimmer::every(std::chrono::milliseconds interval) {
  periodic_.startRepeating(interval, [this] {
    if (release_) release_();
    bool worked = releaseThreadReadBuffer();
    std::size_t free = freeHeapBytes();
    std::size_t change = free > freeAfterTrim_ ? free - freeAfterTrim_ : freeAfterTrim_ - free;
    if (free >= kWorthTrimming && (worked || change >= kWorthAgain)) return trim();
    // Not worth a walk of the free lists, but the cheap release costs nothing to repeat.
    releaseHeapTop();
  });
  periodic_.unref();
}

void HeapTrimmer::trim() {
  releaseThreadReadBuffer();  // the timers run on the loop's thread, between reads
  releaseFreeHeap();
  releaseHeapTop();      // malloc_trim leaves a thread arena's top as it is
  releaseUnusedStack();  // a timer callback is a shallow frame
  freeAfterTrim_ = freeHeapBytes();
  ++trims_;
}

}  // namespace mesh::core
