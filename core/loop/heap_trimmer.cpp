#include "core/loop/heap_trimmer.h"

#include "core/base/heap.h"

namespace mesh::core {

namespace {

// Less than this free in the heap is not worth a walk of its free lists.
constexpr std::size_t kWorthTrimming = 256 * 1024;

}  // namespace

HeapTrimmer::HeapTrimmer(Loop& loop, std::chrono::milliseconds settle)
    : timer_(loop), periodic_(loop), settle_(settle) {}

void HeapTrimmer::afterWork() {
  timer_.start(settle_, [this] { trim(); });
}

void HeapTrimmer::every(std::chrono::milliseconds interval) {
  periodic_.startRepeating(interval, [this] {
    releaseThreadReadBuffer();
    if (freeHeapBytes() >= kWorthTrimming) trim();
  });
  periodic_.unref();
}

void HeapTrimmer::trim() {
  releaseThreadReadBuffer();  // the timers run on the loop's thread, between reads
  releaseFreeHeap();
  ++trims_;
}

}  // namespace mesh::core
