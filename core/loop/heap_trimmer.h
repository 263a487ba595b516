// HeapTrimmer: gives the heap's free pages back to the kernel (releaseFreeHeap, heap.h) once
// a burst of work has settled. A burst (pilot's first snapshots come four in half a second;
// a worker thread drops the old config only after it has switched) frees much, at times that
// are not known in advance: each afterWork() restarts a short timer, and the trim runs when
// it fires, once per burst, with the loop thread's read buffer (filled by the burst's reads).
#pragma once

#include <chrono>
#include <functional>

#include "core/loop/loop.h"
#include "core/loop/timer.h"

namespace mesh::core {

// Gives back the pages of the calling thread's stream read buffer (uv_stream.cpp). Call it on
// that thread, between reads. Returns whether anything was read since the last call, which
// is to say whether this thread did work that churned its heap.
bool releaseThreadReadBuffer();

class HeapTrimmer {
 public:
  explicit HeapTrimmer(Loop& loop,
                       std::chrono::milliseconds settle = std::chrono::milliseconds(1000));

  // Something that may have freed much just ran (or is about to finish on another thread).
  void afterWork();
  // Also, every `interval`, releases this thread's read buffer and the free top of its
  // arena (releaseHeapTop, heap.h), and trims when the heap holds more than 256 KiB free and
  // either this thread read something since the last look or the free total changed by
  // 64 KiB since the last trim: for what is freed by work nobody reports here (requests
  // served, which leave free chunks dirty all through the heap while the free total stays
  // about the same, and proxy worker threads' arenas, which glibc gives back only above
  // 256 KiB free at their top). This timer does not keep the loop running.
  void every(std::chrono::milliseconds interval);
  // Runs at each of those looks, first: memory the thread keeps for its own reuse (a proxy
  // worker's spare request buffers) goes back to the heap, to be trimmed with the rest. Under
  // load that costs a few hundred allocations every interval; idle, the thread keeps none.
  void setRelease(std::function<void()> release) { release_ = std::move(release); }
  // How many trims have run (for tests).
  unsigned trims() const { return trims_; }

 private:
  void trim();

  Timer timer_;
  Timer periodic_;
  std::chrono::milliseconds settle_;
  unsigned trims_ = 0;
  std::size_t freeAfterTrim_ = 0;
  std::function<void()> release_;
};

}  // namespace mesh::core
