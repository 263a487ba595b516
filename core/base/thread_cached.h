// ThreadCached<T>: gives T its own operator new and delete, which keep up to kMaxBlocks freed
// blocks of sizeof(T) per thread and hand them out again.
//
// For objects made and destroyed once per request on a proxy worker (core/base/recycle_bin.h
// says why the general allocator is slow for those). A block freed on another thread joins
// that thread's cache; the blocks a thread still holds are freed when it exits.
//
//   class ActiveRequest : public core::ThreadCached<ActiveRequest> { ... };
//
// Under AddressSanitizer nothing is cached, so that a use of a deleted object is still caught.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>
#include <vector>

namespace mesh::core {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kCacheFreedBlocks = false;
#else
inline constexpr bool kCacheFreedBlocks = true;
#endif

template <typename T, std::size_t kMaxBlocks = 256>
class ThreadCached {
 public:
  static void* operator new(std::size_t size) {
    auto& free = blocks().free;
    if (size == sizeof(T) && !free.empty()) {
      void* block = free.back();
      free.pop_back();
      return block;
    }
    if (void* block = std::malloc(size)) return block;
    throw std::bad_alloc();
  }
  // `size` is the size of the object's own class, also when it is deleted through a base.
  static void operator delete(void* block, std::size_t size) {
    auto& free = blocks().free;
    if (kCacheFreedBlocks && size == sizeof(T) && free.size() < kMaxBlocks) {
      free.push_back(block);
      return;
    }
    freeBlock(block);
  }

  // Frees this thread's cached blocks.
  static void releaseCached() {
    auto& free = blocks().free;
    for (void* block : free) freeBlock(block);
    std::vector<void*>().swap(free);
  }

 private:
  // Out of line: inlined into a new-expression, GCC takes the class's operator new for the
  // block's allocator and warns that free() does not match it.
  [[gnu::noinline]] static void freeBlock(void* block) { std::free(block); }

  struct Blocks {
    std::vector<void*> free;
    Blocks() = default;
    Blocks(const Blocks&) = delete;
    Blocks& operator=(const Blocks&) = delete;
    ~Blocks() {
      for (void* block : free) freeBlock(block);
    }
  };
  static Blocks& blocks() {
    thread_local Blocks cache;
    return cache;
  }
};

}  // namespace mesh::core
