// A bump allocator for the bytes of one HTTP message: header names and values that had to
// be copied (a head split across reads, headers added by filters), the request-target.
// Memory is released in one go by reset(), which keeps the largest block (unless a huge
// message grew it) so that a connection in its steady state allocates nothing per request.
// Blocks are heap memory and never move, so a view into the arena stays valid when the arena
// itself is moved.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

namespace mesh::core::http {

class Arena {
 public:
  Arena() = default;
  Arena(Arena&&) noexcept = default;
  Arena& operator=(Arena&&) noexcept = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // A stable copy of `s`.
  std::string_view copy(std::string_view s);
  // `head` followed by `tail`, stable. When `head` is the arena's latest allocation and the
  // block has room, `tail` is appended in place: growing a value piece by piece is linear.
  std::string_view append(std::string_view head, std::string_view tail);
  bool contains(const char* p) const;
  // Forgets every allocation; keeps one block of at most kKeepAtMost bytes, frees the rest.
  void reset();
  // Bytes held in blocks (for tests and for memory accounting).
  size_t capacity() const;

 private:
  struct Block {
    std::unique_ptr<char[]> data;
    size_t size = 0;
    size_t used = 0;
  };
  char* allocate(size_t n);

  static constexpr size_t kFirstBlock = 1024;
  static constexpr size_t kKeepAtMost = 16 * 1024;
  std::vector<Block> blocks_;
};

}  // namespace mesh::core::http
