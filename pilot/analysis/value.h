// A read-only document tree for the analyzers: maps, sequences and scalars, each with the
// 1-based line it started on, so any message can point at the field it is about. Analyzers
// query it with lookups that never throw: a missing key yields an empty (null) Value.
// A Value owns its children by value; Resources own their Value.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mesh::pilot::analysis {

class Value {
 public:
  enum class Type { null, scalar, sequence, map };

  Value() = default;
  static Value makeScalar(std::string text, bool quoted, int line);
  static Value makeSequence(int line);
  static Value makeMap(int line);
  static Value makeNull(int line);

  Type type() const { return type_; }
  bool isNull() const { return type_ == Type::null; }
  bool isScalar() const { return type_ == Type::scalar; }
  bool isSequence() const { return type_ == Type::sequence; }
  bool isMap() const { return type_ == Type::map; }
  // True when the key was present in the document (even as `key:` with no value).
  bool present() const { return present_; }
  int line() const { return line_; }

  // Scalar text; "" for anything that is not a scalar.
  const std::string& text() const;
  // Quoted scalars are strings even when they read like numbers ("80" vs 80).
  bool quoted() const { return quoted_; }
  // Integer value of a plain scalar; false (and `out` untouched) if it is not one.
  bool asInt(long long& out) const;
  bool asBool(bool& out) const;

  // Map lookup; a null Value (present() false) when absent or when this is not a map.
  const Value& operator[](std::string_view key) const;
  const Value* find(std::string_view key) const;
  std::string str(std::string_view key) const { return (*this)[key].text(); }
  const std::vector<std::pair<std::string, Value>>& entries() const { return entries_; }
  const std::vector<Value>& items() const { return items_; }
  size_t size() const { return isMap() ? entries_.size() : items_.size(); }

  // Builders, used by loaders.
  void add(std::string key, Value value);
  void push(Value value);

  // A canonical text form (keys sorted) used to compare two subtrees for equality.
  std::string canonical() const;

 private:
  Type type_ = Type::null;
  bool present_ = false;
  bool quoted_ = false;
  int line_ = 0;
  std::string text_;
  std::vector<std::pair<std::string, Value>> entries_;
  std::vector<Value> items_;
};

// "app=reviews,version=v1": a string map rendered as a Kubernetes label selector, keys sorted.
std::string selectorString(const Value& labels);

}  // namespace mesh::pilot::analysis
