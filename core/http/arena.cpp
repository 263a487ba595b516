#include "core/http/arena.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace mesh::core::http {

char* Arena::allocate(size_t n) {
  if (blocks_.empty() || blocks_.back().size - blocks_.back().used < n) {
    size_t last = blocks_.empty() ? kFirstBlock / 2 : blocks_.back().size;
    size_t size = std::max(last * 2, n);
    blocks_.push_back(Block{std::make_unique<char[]>(size), size, 0});
  }
  Block& b = blocks_.back();
  char* p = b.data.get() + b.used;
  b.used += n;
  return p;
}

std::string_view Arena::copy(std::string_view s) {
  if (s.empty()) return {};
  char* p = allocate(s.size());
  std::memcpy(p, s.data(), s.size());
  return {p, s.size()};
}

std::string_view Arena::append(std::string_view head, std::string_view tail) {
  if (tail.empty()) return contains(head.data()) || head.empty() ? head : copy(head);
  if (!head.empty() && !blocks_.empty()) {
    Block& b = blocks_.back();
    char* end = b.data.get() + b.used;
    auto start = reinterpret_cast<uintptr_t>(head.data());
    auto lo = reinterpret_cast<uintptr_t>(b.data.get());
    if (start >= lo && start + head.size() == lo + b.used && b.size - b.used >= tail.size()) {
      std::memcpy(end, tail.data(), tail.size());
      b.used += tail.size();
      return {head.data(), head.size() + tail.size()};
    }
  }
  size_t n = head.size() + tail.size();
  char* p = allocate(n);
  if (!head.empty()) std::memcpy(p, head.data(), head.size());
  std::memcpy(p + head.size(), tail.data(), tail.size());
  return {p, n};
}

bool Arena::contains(const char* p) const {
  for (const Block& b : blocks_) {
    // Compare as integers: relational operators on unrelated pointers are unspecified.
    auto q = reinterpret_cast<uintptr_t>(p);
    auto lo = reinterpret_cast<uintptr_t>(b.data.get());
    if (q >= lo && q < lo + b.size) return true;
  }
  return false;
}

void Arena::reset() {
  if (blocks_.empty()) return;
  // Blocks double, so the last is the largest: keep it unless one huge message grew it.
  Block keep = std::move(blocks_.back());
  blocks_.clear();
  if (keep.size <= kKeepAtMost) {
    keep.used = 0;
    blocks_.push_back(std::move(keep));
  }
}

size_t Arena::capacity() const {
  size_t total = 0;
  for (const Block& b : blocks_) total += b.size;
  return total;
}

}  // namespace mesh::core::http
