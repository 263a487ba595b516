#include "core/loop/heap_trimmer.h"

#include "core/base/heap.h"

namespace mesh::core {

HeapTrimmer::HeapTrimmer(Loop& loop, std::chrono::milliseconds settle)
    : timer_(loop), settle_(settle) {}

void HeapTrimmer::afterWork() {
  timer_.start(settle_, [this] {
    releaseThreadReadBuffer();  // the timer runs on the loop's thread, between reads
    releaseFreeHeap();
    ++trims_;
  });
}

}  // namespace mesh::core
