#include "pilot/analysis/value.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace mesh::pilot::analysis {

namespace {
const Value& nullValue() {
  static const Value v;
  return v;
}
const std::string& emptyString() {
  static const std::string s;
  return s;
}
}  // namespace

Value Value::makeScalar(std::string text, bool quoted, int line) {
  Value v;
  v.type_ = Type::scalar;
  v.present_ = true;
  v.quoted_ = quoted;
  v.line_ = line;
  v.text_ = std::move(text);
  return v;
}

Value Value::makeSequence(int line) {
  Value v;
  v.type_ = Type::sequence;
  v.present_ = true;
  v.line_ = line;
  return v;
}

Value Value::makeMap(int line) {
  Value v;
  v.type_ = Type::map;
  v.present_ = true;
  v.line_ = line;
  return v;
}

Value Value::makeNull(int line) {
  Value v;
  v.present_ = true;
  v.line_ = line;
  return v;
}

const std::string& Value::text() const { return isScalar() ? text_ : emptyString(); }

bool Value::asInt(long long& out) const {
  if (!isScalar() || quoted_ || text_.empty()) return false;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(text_.c_str(), &end, 10);
  if (errno != 0 || end == nullptr || *end != '\0') return false;
  out = v;
  return true;
}

bool Value::asBool(bool& out) const {
  if (!isScalar() || quoted_) return false;
  if (text_ == "true" || text_ == "True" || text_ == "TRUE") {
    out = true;
    return true;
  }
  if (text_ == "false" || text_ == "False" || text_ == "FALSE") {
    out = false;
    return true;
  }
  return false;
}

const Value* Value::find(std::string_view key) const {
  if (!isMap()) return nullptr;
  for (const auto& [k, v] : entries_) {
    if (k == key) return &v;
  }
  return nullptr;
}

const Value& Value::operator[](std::string_view key) const {
  const Value* v = find(key);
  return v != nullptr ? *v : nullValue();
}

void Value::add(std::string key, Value value) { entries_.emplace_back(std::move(key), std::move(value)); }

void Value::push(Value value) { items_.push_back(std::move(value)); }

std::string Value::canonical() const {
  switch (type_) {
    case Type::null: return "~";
    case Type::scalar: return (quoted_ ? "'" : "") + text_;
    case Type::sequence: {
      std::string out = "[";
      for (const Value& item : items_) out += item.canonical() + ",";
      return out + "]";
    }
    case Type::map: {
      std::vector<std::string> parts;
      for (const auto& [k, v] : entries_) parts.push_back(k + ":" + v.canonical());
      std::sort(parts.begin(), parts.end());
      std::string out = "{";
      for (const std::string& p : parts) out += p + ",";
      return out + "}";
    }
  }
  return "";
}

std::string selectorString(const Value& labels) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : labels.entries()) parts.push_back(k + "=" + v.text());
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

}  // namespace mesh::pilot::analysis
