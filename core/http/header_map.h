// The headers of one HTTP/1.1 message: ordered as received, names compared without regard to
// case, several lines with the same name kept apart (Set-Cookie must never be joined).
//
// Entries are views. A parsed message's entries point into the bytes the caller handed to the
// parser, or into this map's arena when a header had to be copied (split across reads).
// add()/set() copy their arguments into the arena; addView() does not, and is for bytes that
// outlive the map (string literals, the read buffer of the message being handled).
// materialize() copies every view that is not already in the arena, after which the map owns
// all its bytes and outlives any read buffer.
//
// The map is meant to be reused: clear() keeps the entry vector's capacity and the arena's
// block, so a connection in its steady state allocates nothing per message.
//
// Most lookups of a proxy ask for a header the message does not have (Connection, Upgrade,
// Expect, trace and forwarding headers on their first hop). A 64-bit summary of the names
// present answers those without a scan: each name sets two bits chosen from its length and
// its first and last bytes, case folded; a name whose bits are not all set is absent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/http/arena.h"
#include "core/http/chars.h"

namespace mesh::core::http {

class HeaderMap {
 public:
  struct Entry {
    std::string_view name;
    std::string_view value;
  };
  using const_iterator = std::vector<Entry>::const_iterator;

  HeaderMap() = default;
  HeaderMap(HeaderMap&&) noexcept = default;
  HeaderMap& operator=(HeaderMap&&) noexcept = default;
  // A deep copy: the copy owns all its bytes.
  HeaderMap(const HeaderMap& other);
  HeaderMap& operator=(const HeaderMap& other);

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const_iterator begin() const { return entries_.begin(); }
  const_iterator end() const { return entries_.end(); }
  const Entry& operator[](size_t i) const { return entries_[i]; }

  // The first value of `name`.
  std::optional<std::string_view> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  size_t count(std::string_view name) const;
  // Calls fn(value) for each line named `name`, in order.
  template <typename Fn>
  void forEach(std::string_view name, Fn&& fn) const {
    if (!mayHave(name)) return;
    for (const Entry& e : entries_) {
      if (nameEquals(e.name, name)) fn(e.value);
    }
  }
  // All values of `name` joined with ", " (RFC 9110 5.3); empty when absent. Not for
  // Set-Cookie, whose lines cannot be combined.
  std::string joined(std::string_view name) const;
  // True when a comma-separated list header (Connection, Transfer-Encoding...) holds `token`
  // as one of its elements, compared without case.
  bool hasToken(std::string_view name, std::string_view token) const;

  // Appends a line; both strings are copied.
  void add(std::string_view name, std::string_view value);
  // Appends a line without copying: the caller guarantees the bytes outlive the map.
  void addView(std::string_view name, std::string_view value);
  // Replaces every line named `name` by one with `value` (copied), where the first one was,
  // or appends it.
  void set(std::string_view name, std::string_view value);
  // Replaces the value of line `index` (copied).
  void setValueAt(size_t index, std::string_view value) {
    entries_[index].value = arena_.copy(value);
  }
  // Removes every line named `name`; returns how many.
  size_t remove(std::string_view name);
  // Removes every line named `name` and returns the first one's value, whose bytes stay
  // where they are: get() and remove() in one pass.
  std::optional<std::string_view> take(std::string_view name);
  void clear();

  // Copies into the arena every name and value that does not already live there. Those
  // that point into `source`, the bytes a head was parsed from, are copied in one block.
  void materialize(std::string_view source = {});
  // Exchanges lines, arenas and all with `other`.
  void swap(HeaderMap& other) noexcept {
    entries_.swap(other.entries_);
    std::swap(arena_, other.arena_);
    std::swap(names_, other.names_);
  }
  // A stable copy of `s` in this map's arena, for other views of the same message (the
  // request-target) that must live as long as the headers.
  std::string_view store(std::string_view s) { return arena_.copy(s); }
  // Appends `tail` to `head` in the arena (used by the parser to join pieces).
  std::string_view storeAppend(std::string_view head, std::string_view tail) {
    return arena_.append(head, tail);
  }
  bool owns(std::string_view s) const { return s.empty() || arena_.contains(s.data()); }

  // Bytes of the lines as serialised: "name: value\r\n" each.
  size_t serializedSize() const;
  // Heap bytes the map holds on to, kept by clear().
  size_t capacityBytes() const { return entries_.capacity() * sizeof(Entry) + arena_.capacity(); }

  static bool nameEquals(std::string_view a, std::string_view b) {
    return equalsIgnoreCase(a, b);
  }

 private:
  static uint64_t nameBits(std::string_view name) {
    if (name.empty()) return 1;
    uint32_t h = static_cast<uint32_t>(name.size()) * 0x9E3779B1u;
    h ^= static_cast<uint32_t>(static_cast<uint8_t>(asciiLower(name.front()))) << 8;
    h ^= static_cast<uint8_t>(asciiLower(name.back()));
    h *= 0x85EBCA6Bu;
    return (uint64_t{1} << (h >> 26)) | (uint64_t{1} << ((h >> 20) & 63));
  }
  // False: no line is named `name`. True: one may be (a removed name keeps its bits until
  // clear(), and two names can share theirs).
  bool mayHave(std::string_view name) const {
    uint64_t bits = nameBits(name);
    return (names_ & bits) == bits;
  }

  std::vector<Entry> entries_;
  uint64_t names_ = 0;  // the summary of the names added since clear()
  Arena arena_;
};

inline size_t capacityBytes(const HeaderMap& map) { return map.capacityBytes(); }

}  // namespace mesh::core::http
