// The heap of a process that is one of many. mesh up runs a hundred of these processes (a
// sidecar and an app per pod) on one laptop, so what each keeps beyond its live data counts a
// hundred times. glibc's malloc is tuned for one big server: it keeps freed memory for reuse,
// and once a large block has been freed it serves ever larger blocks from the heap, where a
// single live allocation above them pins every page below.
#pragma once

#include <cstddef>

namespace mesh::core {

// Whether malloc is glibc's. Under ASan or TSan it is the sanitizer's, which glibc's settings
// and trims do not reach: the functions below then change nothing measurable.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kGlibcMalloc = false;
#else
inline constexpr bool kGlibcMalloc = true;
#endif

// Called first thing in main, before anything allocates much: blocks of 128 KiB and more
// (a config snapshot's frame and its JSON text, a large body) always get their own mapping,
// given back when freed, instead of glibc raising that threshold after each such free and
// leaving the next big block as a hole in the heap.
void configureHeap();

// Gives the free pages inside the heap back to the kernel (malloc_trim): after a burst of
// work that freed much (a new config replacing the old one, start-up), what is free stays in
// the heap as dirty memory otherwise, since glibc only ever trims the top of it. Costs a walk
// of the free lists, so call it after bursts, not per request. Returns whether anything was
// released.
bool releaseFreeHeap();

// Gives back the dirty free pages at the top of the calling thread's malloc arena. glibc
// returns a thread arena's top only once it exceeds the trim threshold plus its padding
// (128 KiB each), and malloc_trim never returns it: every proxy worker thread kept about
// 128 KiB of free but dirty pages there after its first requests. Cheap (one allocation from
// the top, one madvise, one free, no walk of the free lists), so it can run every few seconds.
void releaseHeapTop();

// Bytes free inside the heap (all arenas), which releaseFreeHeap could partly give back.
std::size_t freeHeapBytes();

// What malloc holds, all arenas together: the proxy's admin /memory page.
struct HeapUsage {
  std::size_t allocated = 0;  // in live blocks
  std::size_t heapSize = 0;   // obtained from the kernel, arenas and own mappings
  std::size_t free = 0;       // inside the arenas, not in use
  std::size_t mapped = 0;     // of heapSize, in blocks with a mapping of their own
  std::size_t arenas = 0;     // bytes the arenas span
};
HeapUsage heapUsage();

// Gives back the pages of the calling thread's stack below the frame of the caller (less a
// margin): start-up (flag parsing, the first config, recursive JSON) goes deep once and the
// kernel never takes those pages back by itself. A deeper call later simply faults in zeroed
// pages again. Call it from a shallow frame, such as a timer callback. Returns whether the
// stack's bounds were known.
bool releaseUnusedStack();

}  // namespace mesh::core
