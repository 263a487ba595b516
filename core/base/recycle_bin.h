// RecycleBin: spare objects that keep their capacity (a string's buffer, a header map's entry
// vector and arena), handed out again instead of being freed and allocated anew.
//
// Why not leave it to malloc: a proxy worker allocates and frees the same few buffers for
// every request, tens of thousands of times a second, and with dozens of requests in flight
// they outnumber what the allocator's per-thread cache keeps (seven chunks of a size), so
// most of them went through its slower shared bins. A bin per thread and kind holds as many
// as a busy worker has in flight, and no more: `kMaxSpares` objects, each given back only if
// it is no larger than `kMaxBytes`, so what it keeps stays small and bounded.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace mesh::core {

// What an object holds on to; other kinds declare theirs beside them (found by argument-
// dependent lookup).
inline std::size_t capacityBytes(const std::string& s) { return s.capacity(); }

// T has clear() and a capacityBytes(const T&).
template <typename T, std::size_t kMaxSpares, std::size_t kMaxBytes>
class RecycleBin {
 public:
  // A spare (empty, with its capacity) or a new object.
  T take() {
    if (spares_.empty()) return T();
    T value = std::move(spares_.back());
    spares_.pop_back();
    return value;
  }
  // Keeps `value` for a later take(), emptied; or lets it go when the bin is full or the
  // object grew large.
  void give(T&& value) {
    if (spares_.size() >= kMaxSpares || capacityBytes(value) > kMaxBytes) return;
    value.clear();
    spares_.push_back(std::move(value));
  }
  std::size_t size() const { return spares_.size(); }
  // Lets every spare go.
  void release() { std::vector<T>().swap(spares_); }

 private:
  std::vector<T> spares_;
};

}  // namespace mesh::core
