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
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
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
  // Removes every line named `name`; returns how many.
  size_t remove(std::string_view name);
  void clear();

  // Copies into the arena every name and value that does not already live there.
  void materialize();
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
  std::vector<Entry> entries_;
  Arena arena_;
};

inline size_t capacityBytes(const HeaderMap& map) { return map.capacityBytes(); }

}  // namespace mesh::core::http
