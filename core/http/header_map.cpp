#include "core/http/header_map.h"

#include <algorithm>
#include <cstdint>

#include "core/http/chars.h"

namespace mesh::core::http {

namespace {
constexpr size_t kCopyHeadroom = 16;
}  // namespace

HeaderMap::HeaderMap(const HeaderMap& other) { *this = other; }

HeaderMap& HeaderMap::operator=(const HeaderMap& other) {
  if (this == &other) return *this;
  clear();
  // Room for the lines a proxy adds to the copy (request id, forwarded-for, trace and peer
  // headers): reserving the exact size made the first add() regrow the vector, and a
  // one-header request regrew it five times.
  entries_.reserve(other.entries_.size() + kCopyHeadroom);
  for (const Entry& e : other.entries_) add(e.name, e.value);
  return *this;
}

std::optional<std::string_view> HeaderMap::get(std::string_view name) const {
  if (!mayHave(name)) return std::nullopt;
  for (const Entry& e : entries_) {
    if (nameEquals(e.name, name)) return e.value;
  }
  return std::nullopt;
}

size_t HeaderMap::count(std::string_view name) const {
  if (!mayHave(name)) return 0;
  size_t n = 0;
  for (const Entry& e : entries_) n += nameEquals(e.name, name) ? 1 : 0;
  return n;
}

std::string HeaderMap::joined(std::string_view name) const {
  std::string out;
  forEach(name, [&](std::string_view v) {
    if (!out.empty()) out += ", ";
    out += v;
  });
  return out;
}

bool HeaderMap::hasToken(std::string_view name, std::string_view token) const {
  bool found = false;
  forEach(name, [&](std::string_view v) {
    while (!found && !v.empty()) {
      size_t comma = v.find(',');
      std::string_view element = trimOws(v.substr(0, comma));
      found = equalsIgnoreCase(element, token);
      v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    }
  });
  return found;
}

void HeaderMap::add(std::string_view name, std::string_view value) {
  names_ |= nameBits(name);
  entries_.push_back(Entry{arena_.copy(name), arena_.copy(value)});
}

void HeaderMap::addView(std::string_view name, std::string_view value) {
  names_ |= nameBits(name);
  entries_.push_back(Entry{name, value});
}

void HeaderMap::set(std::string_view name, std::string_view value) {
  if (!mayHave(name)) {
    add(name, value);
    return;
  }
  auto first = std::find_if(entries_.begin(), entries_.end(),
                            [&](const Entry& e) { return nameEquals(e.name, name); });
  if (first == entries_.end()) {
    add(name, value);
    return;
  }
  first->value = arena_.copy(value);
  auto rest = std::remove_if(first + 1, entries_.end(),
                             [&](const Entry& e) { return nameEquals(e.name, name); });
  entries_.erase(rest, entries_.end());
}

size_t HeaderMap::remove(std::string_view name) {
  if (!mayHave(name)) return 0;
  auto rest = std::remove_if(entries_.begin(), entries_.end(),
                             [&](const Entry& e) { return nameEquals(e.name, name); });
  size_t n = static_cast<size_t>(entries_.end() - rest);
  entries_.erase(rest, entries_.end());
  return n;
}

std::optional<std::string_view> HeaderMap::take(std::string_view name) {
  if (!mayHave(name)) return std::nullopt;
  std::optional<std::string_view> first;
  auto rest = std::remove_if(entries_.begin(), entries_.end(), [&](const Entry& e) {
    if (!nameEquals(e.name, name)) return false;
    if (!first) first = e.value;
    return true;
  });
  entries_.erase(rest, entries_.end());
  return first;
}

void HeaderMap::clear() {
  entries_.clear();
  names_ = 0;
  arena_.reset();
}

void HeaderMap::materialize(std::string_view source) {
  // The views inside `source` (a head just parsed) are copied in one piece, the span from
  // the first to the last of them, separators included; each is then moved onto the copy.
  // Reading that span is safe because it lies inside `source`. Others are copied one by one.
  auto inSource = [&](std::string_view s) {
    auto at = reinterpret_cast<uintptr_t>(s.data());
    auto begin = reinterpret_cast<uintptr_t>(source.data());
    return !s.empty() && at >= begin && at + s.size() <= begin + source.size();
  };
  uintptr_t lo = UINTPTR_MAX, hi = 0;
  for (Entry& e : entries_) {
    for (std::string_view* s : {&e.name, &e.value}) {
      if (inSource(*s)) {
        auto at = reinterpret_cast<uintptr_t>(s->data());
        lo = std::min(lo, at);
        hi = std::max(hi, at + s->size());
      } else if (!owns(*s)) {
        *s = arena_.copy(*s);
      }
    }
  }
  if (hi == 0) return;
  const char* copy = arena_.copy({reinterpret_cast<const char*>(lo), hi - lo}).data();
  for (Entry& e : entries_) {
    for (std::string_view* s : {&e.name, &e.value}) {
      if (inSource(*s)) *s = {copy + (reinterpret_cast<uintptr_t>(s->data()) - lo), s->size()};
    }
  }
}

size_t HeaderMap::serializedSize() const {
  size_t n = 0;
  for (const Entry& e : entries_) n += e.name.size() + 2 + e.value.size() + 2;
  return n;
}

}  // namespace mesh::core::http
