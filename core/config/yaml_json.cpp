#include "core/config/yaml_json.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string_view>

#include "core/config/field_path.h"

namespace mesh::core::config::detail {
namespace {

using nlohmann::json;

constexpr std::string_view kTagPrefix = "tag:yaml.org,2002:";

bool isOneOf(std::string_view s, std::initializer_list<std::string_view> options) {
  for (auto o : options) {
    if (s == o) return true;
  }
  return false;
}

// go-yaml v2 accepts these as booleans (YAML 1.1), and Kubernetes with it.
bool resolveBool(std::string_view s, bool& out) {
  if (isOneOf(s, {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"})) {
    out = true;
    return true;
  }
  if (isOneOf(s, {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"})) {
    out = false;
    return true;
  }
  return false;
}

// Go's strconv.ParseInt(s, 0, 64) after go-yaml removes underscores: sign, then decimal,
// 0x hex, 0o / leading-0 octal, or 0b binary.
bool resolveInt(std::string_view s, json& out) {
  std::string digits;
  for (char c : s) {
    if (c != '_') digits += c;
  }
  std::string_view d = digits;
  bool negative = false;
  if (!d.empty() && (d[0] == '+' || d[0] == '-')) {
    negative = d[0] == '-';
    d.remove_prefix(1);
  }
  if (d.empty()) return false;
  int base = 10;
  if (d.size() > 1 && d[0] == '0') {
    char p = d[1];
    if (p == 'x' || p == 'X') {
      base = 16;
      d.remove_prefix(2);
    } else if (p == 'o' || p == 'O') {
      base = 8;
      d.remove_prefix(2);
    } else if (p == 'b' || p == 'B') {
      base = 2;
      d.remove_prefix(2);
    } else {
      base = 8;
      d.remove_prefix(1);
    }
  }
  if (d.empty()) return false;
  unsigned long long value = 0;
  for (char c : d) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return false;
    }
    if (digit >= base) return false;
    if (value > (std::numeric_limits<unsigned long long>::max() - digit) / base) return false;
    value = value * base + digit;
  }
  constexpr auto kMaxSigned = static_cast<unsigned long long>(INT64_MAX);
  if (negative) {
    if (value > kMaxSigned + 1) return false;
    out = value == kMaxSigned + 1 ? INT64_MIN : -static_cast<std::int64_t>(value);
  } else if (value <= kMaxSigned) {
    out = static_cast<std::int64_t>(value);
  } else {
    out = static_cast<std::uint64_t>(value);
  }
  return true;
}

// go-yaml v2's float syntax: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool looksLikeFloat(std::string_view s) {
  auto isDigit = [&](std::size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; };
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  std::size_t digits = 0;
  while (isDigit(i)) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (isDigit(i)) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!isDigit(i)) return false;
    while (isDigit(i)) ++i;
  }
  return i == s.size();
}

bool resolveFloat(std::string_view s, json& out) {
  if (isOneOf(s, {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"})) {
    out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (isOneOf(s, {"-.inf", "-.Inf", "-.INF"})) {
    out = -std::numeric_limits<double>::infinity();
    return true;
  }
  if (isOneOf(s, {".nan", ".NaN", ".NAN"})) {
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (!looksLikeFloat(s)) return false;
  out = std::strtod(std::string(s).c_str(), nullptr);
  return true;
}

bool resolvePlain(std::string_view s, json& out) {
  bool b;
  if (resolveBool(s, b)) {
    out = b;
  } else if (isOneOf(s, {"null", "Null", "NULL", "~", ""})) {
    out = nullptr;
  } else if (!resolveInt(s, out) && !resolveFloat(s, out)) {
    out = std::string(s);
  }
  return true;
}

// Length of the valid UTF-8 sequence at the start of `s`, or 0.
std::size_t utf8Sequence(std::string_view s) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char b0 = byte(0);
  if (b0 < 0x80) return 1;
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // past U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < n || byte(1) < lo || byte(1) > hi) return 0;
  for (std::size_t i = 2; i < n; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return n;
}

class Converter {
 public:
  Converter(const YamlDocument& doc, PositionTable& positions, ConvertError& error)
      : doc_(doc), positions_(positions), error_(error) {}

  bool convert(const YamlNode& node, std::string& pointer, Position at, int depth,
               json& out) {
    positions_.add(pointer, at);
    if (++values_ > kMaxValues) {
      return fail(at, pointer, "more than " + std::to_string(kMaxValues) +
                                   " values (after expanding aliases)");
    }
    if (depth > kMaxDepth) {
      return fail(at, pointer, "nested deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    const YamlNode& n = doc_.resolve(node);
    switch (n.type) {
      case YamlNode::Type::null:
      case YamlNode::Type::alias:
        out = nullptr;
        return true;
      case YamlNode::Type::scalar:
        return scalar(n, pointer, at, out);
      case YamlNode::Type::sequence:
        return sequence(n, pointer, depth, out);
      case YamlNode::Type::map:
        return map(n, pointer, depth, out);
    }
    return true;
  }

 private:
  bool fail(Position at, const std::string& pointer, std::string message) {
    error_ = {at, pointer, std::move(message)};
    return false;
  }

  bool scalar(const YamlNode& node, const std::string& pointer, Position at, json& out) {
    const std::string& tag = node.tag;
    const std::string& text = node.text;
    if (!isValidUtf8(text)) return fail(at, pointer, "not valid UTF-8");
    if (tag == "?") return resolvePlain(text, out);
    if (tag == "!" || tag.empty()) {
      out = text;
      return true;
    }
    std::string_view kind = tag;
    if (!kind.starts_with(kTagPrefix)) {
      return resolvePlain(text, out);  // application tags mean nothing to Kubernetes either
    }
    kind.remove_prefix(kTagPrefix.size());
    bool b;
    if (kind == "str") {
      out = text;
    } else if (kind == "int") {
      if (!resolveInt(text, out)) return fail(at, pointer, "\"" + text + "\" is not an !!int");
    } else if (kind == "float") {
      if (!resolveFloat(text, out) && !resolveInt(text, out)) {
        return fail(at, pointer, "\"" + text + "\" is not a !!float");
      }
      if (out.is_number()) out = out.get<double>();
    } else if (kind == "bool") {
      if (!resolveBool(text, b)) return fail(at, pointer, "\"" + text + "\" is not a !!bool");
      out = b;
    } else if (kind == "null") {
      out = nullptr;
    } else {
      return resolvePlain(text, out);
    }
    return true;
  }

  bool sequence(const YamlNode& node, std::string& pointer, int depth, json& out) {
    out = json::array();
    std::size_t base = pointer.size();
    std::size_t i = 0;
    for (std::uint32_t index : node.children) {
      const YamlNode& item = doc_.resolve(doc_[index]);
      pointer += '/';
      pointer += std::to_string(i++);
      json value;
      if (!convert(item, pointer, positionOf(item), depth + 1, value)) return false;
      out.push_back(std::move(value));
      pointer.resize(base);
    }
    return true;
  }

  bool map(const YamlNode& node, std::string& pointer, int depth, json& out) {
    out = json::object();
    std::size_t base = pointer.size();
    for (std::size_t i = 0; i + 1 < node.children.size(); i += 2) {
      const YamlNode& key = doc_.resolve(doc_[node.children[i]]);
      Position at = positionOf(key);
      const bool scalarKey = key.type == YamlNode::Type::scalar;
      if (!scalarKey && key.type != YamlNode::Type::null) {
        return fail(at, pointer, "a mapping key must be a plain string, not a list or mapping");
      }
      const std::string& name = scalarKey ? key.text : kEmpty;
      if (!isValidUtf8(name)) return fail(at, pointer, "a key is not valid UTF-8");
      if (out.contains(name)) return fail(at, pointer, "duplicate key \"" + name + "\"");
      pointer += '/';
      FieldPath::appendPointerToken(pointer, name);
      json value;
      if (!convert(doc_[node.children[i + 1]], pointer, at, depth + 1, value)) return false;
      out[name] = std::move(value);
      pointer.resize(base);
    }
    return true;
  }

  static inline const std::string kEmpty;
  const YamlDocument& doc_;
  PositionTable& positions_;
  ConvertError& error_;
  std::size_t values_ = 0;
};

}  // namespace

bool isValidUtf8(std::string_view text) {
  while (!text.empty()) {
    std::size_t n = utf8Sequence(text);
    if (n == 0) return false;
    text.remove_prefix(n);
  }
  return true;
}

std::string sanitizeUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    std::size_t n = utf8Sequence(text);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      n = 1;
    } else {
      out.append(text.substr(0, n));
    }
    text.remove_prefix(n);
  }
  return out;
}

Position positionOf(const YamlNode& node) { return {node.line, node.column}; }

bool yamlToJson(const YamlDocument& doc, const YamlNode& node, nlohmann::json& out,
                PositionTable& positions, ConvertError& error) {
  std::string pointer;
  Converter converter(doc, positions, error);
  const YamlNode& n = doc.resolve(node);
  bool ok = converter.convert(n, pointer, positionOf(n), 0, out);
  positions.seal();
  return ok;
}

}  // namespace mesh::core::config::detail
