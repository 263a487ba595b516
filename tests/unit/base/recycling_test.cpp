#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <thread>

#include "core/base/recycle_bin.h"
#include "core/base/thread_cached.h"

using mesh::core::RecycleBin;
using mesh::core::ThreadCached;

TEST_CASE("A recycled string comes back empty with its buffer", "[base][recycle]") {
  RecycleBin<std::string, 2, 4096> bin;
  std::string s(1000, 'x');
  const char* buffer = s.data();
  bin.give(std::move(s));
  std::string again = bin.take();
  CHECK(again.empty());
  CHECK(again.capacity() >= 1000);
  CHECK(again.data() == buffer);
  CHECK(bin.take().capacity() < 1000);  // the bin is empty: a new string
}

TEST_CASE("A bin keeps no more than its limits", "[base][recycle]") {
  RecycleBin<std::string, 2, 4096> bin;
  for (int i = 0; i < 3; ++i) bin.give(std::string(100, 'x'));
  CHECK(bin.size() == 2);
  RecycleBin<std::string, 2, 4096> small;
  small.give(std::string(5000, 'x'));  // too large to keep
  CHECK(small.size() == 0);
}

namespace {
struct Request : ThreadCached<Request, 2> {
  char bytes[200] = {};
};
}  // namespace

// Under AddressSanitizer nothing is cached (kCacheFreedBlocks), and its quarantine keeps a
// freed block from coming back at once.
TEST_CASE("A thread-cached object reuses the block its predecessor freed", "[base][recycle]") {
  using mesh::core::kCacheFreedBlocks;
  auto first = std::make_unique<Request>();
  void* block = first.get();
  first.reset();
  auto second = std::make_unique<Request>();
  CHECK((static_cast<void*>(second.get()) == block) == kCacheFreedBlocks);

  // Another thread has its own cache: it cannot take this thread's block.
  second.reset();
  void* there = nullptr;
  std::thread([&] {
    auto other = std::make_unique<Request>();
    there = other.get();
  }).join();
  CHECK(there != block);
  CHECK((static_cast<void*>(std::make_unique<Request>().get()) == block) == kCacheFreedBlocks);
}
