// ThreadCached<T>: gives T its own operator new and delete, which keep up to kMaxBlocks freed
// blocks of sizeof(T) per thread and hand them out again.
//
// For objects made and destroyed once per request on a proxy worker (core/base/recycle_bin.h
// says why the general allocator is slow for those). A block freed on another thread joins
// that thread's cache; the blocks a thread still holds are freed when it exits.
//
//   class ActiveRequest : public core::ThreadCached<ActiveRequest> { ... };
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace mesh::core {

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
    return ::operator new(size);
  }
  // `size` is the size of the object's own class, also when it is deleted through a base.
  static void operator delete(void* block, std::size_t size) {
    auto& free = blocks().free;
    if (size == sizeof(T) && free.size() < kMaxBlocks) {
      free.push_back(block);
      return;
    }
    ::operator delete(block);
  }

  // Frees this thread's cached blocks.
  static void releaseCached() {
    auto& free = blocks().free;
    for (void* block : free) ::operator delete(block);
    std::vector<void*>().swap(free);
  }

 private:
  struct Blocks {
    std::vector<void*> free;
    Blocks() = default;
    Blocks(const Blocks&) = delete;
    Blocks& operator=(const Blocks&) = delete;
    ~Blocks() {
      for (void* block : free) ::operator delete(block);
    }
  };
  static Blocks& blocks() {
    thread_local Blocks cache;
    return cache;
  }
};

}  // namespace mesh::core
