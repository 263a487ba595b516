#include "core/config/schema.h"

#include <algorithm>
#include <cmath>
#include <regex>

#include "core/config/duration.h"

namespace mesh::core::config::schema {
namespace {

// Levenshtein distance, for "did you mean" on unknown fields.
std::size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string unknownField(std::string_view name, const std::vector<Field>& fields) {
  std::string message = "unknown field \"" + std::string(name) + "\"";
  std::string_view best;
  std::size_t bestDistance = 3;  // suggest only close spellings
  if (name.size() > 64) return message;  // and spend nothing on absurd names
  for (const Field& f : fields) {
    std::size_t d = distance(name, f.name);
    if (d < bestDistance) {
      bestDistance = d;
      best = f.name;
    }
  }
  if (!best.empty()) message += " (did you mean \"" + std::string(best) + "\"?)";
  return message;
}

std::string joined(const std::vector<std::string_view>& names, std::string_view last) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? std::string(" ") + std::string(last) + " " : ", ";
    out += names[i];
  }
  return out;
}

std::size_t countSet(const json& v, const std::vector<std::string_view>& names) {
  std::size_t n = 0;
  for (auto name : names) n += has(v, name);
  return n;
}

constexpr std::size_t kMaxRegexLength = 1024;

}  // namespace

void Context::error(const FieldPath& path, std::string message) {
  ConfigError e;
  e.file = resource_.file;
  e.line = resource_.lineOf(path.pointer());
  e.kind = resource_.kind;
  e.ns = resource_.ns;
  e.name = resource_.name;
  e.field = path.display();
  e.message = std::move(message);
  errors_.push_back(std::move(e));
  ++count_;
}

bool has(const json& object, std::string_view name) {
  if (!object.is_object()) return false;
  auto it = object.find(name);
  return it != object.end() && !it->is_null();
}

Check object(std::vector<Field> fields, std::vector<Check> rules, Unknown unknown) {
  return [fields = std::move(fields), rules = std::move(rules), unknown](
             Context& c, const json& v, const FieldPath& p) {
    if (!v.is_object()) return c.error(p, "must be an object");
    for (auto item = v.begin(); item != v.end(); ++item) {
      const std::string& name = item.key();
      const json& value = item.value();
      auto it = std::find_if(fields.begin(), fields.end(),
                             [&](const Field& f) { return f.name == name; });
      if (it == fields.end()) {
        if (unknown == Unknown::reject) c.error(p.field(name), unknownField(name, fields));
        continue;
      }
      if (!value.is_null() && it->check) it->check(c, value, p.field(name));
    }
    for (const Field& f : fields) {
      if (f.required && !has(v, f.name)) c.error(p.field(f.name), "required field is missing");
    }
    for (const Check& rule : rules) rule(c, v, p);
  };
}

Check listOf(Check item, std::size_t minItems) {
  return [item = std::move(item), minItems](Context& c, const json& v, const FieldPath& p) {
    if (!v.is_array()) return c.error(p, "must be a list");
    if (v.size() < minItems) {
      return c.error(p, "must have at least " + std::to_string(minItems) +
                            (minItems == 1 ? " entry" : " entries"));
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v[i].is_null()) {
        c.error(p.index(i), "must not be empty");
      } else {
        item(c, v[i], p.index(i));
      }
    }
  };
}

Check mapOf(Check value) {
  return [value = std::move(value)](Context& c, const json& v, const FieldPath& p) {
    if (!v.is_object()) return c.error(p, "must be an object");
    for (const auto& [key, item] : v.items()) value(c, item, p.field(key));
  };
}

Check any() {
  return [](Context&, const json&, const FieldPath&) {};
}

Check string() {
  return [](Context& c, const json& v, const FieldPath& p) {
    if (!v.is_string()) c.error(p, "must be a string");
  };
}

Check nonEmptyString() {
  return [](Context& c, const json& v, const FieldPath& p) {
    if (!v.is_string() || v.get_ref<const std::string&>().empty()) {
      c.error(p, "must be a non-empty string");
    }
  };
}

Check boolean() {
  return [](Context& c, const json& v, const FieldPath& p) {
    if (!v.is_boolean()) c.error(p, "must be true or false");
  };
}

Check integer(std::int64_t min, std::int64_t max) {
  return [min, max](Context& c, const json& v, const FieldPath& p) {
    bool ok = (v.is_number_integer() && !v.is_number_unsigned() && v.get<std::int64_t>() >= min &&
               v.get<std::int64_t>() <= max) ||
              (v.is_number_unsigned() && max >= 0 &&
               v.get<std::uint64_t>() <= static_cast<std::uint64_t>(max));
    if (ok) return;
    if (min == 0 && max == INT32_MAX) return c.error(p, "must be a non-negative integer");
    if (max == INT64_MAX) return c.error(p, "must be an integer of at least " + std::to_string(min));
    c.error(p, "must be an integer between " + std::to_string(min) + " and " + std::to_string(max));
  };
}

Check number(double min, double max) {
  return [min, max](Context& c, const json& v, const FieldPath& p) {
    if (!v.is_number() || std::isnan(v.get<double>()) || v.get<double>() < min ||
        v.get<double>() > max) {
      std::string range = json(min).dump() + " and " + json(max).dump();
      c.error(p, "must be a number between " + range);
    }
  };
}

Check port() {
  return [](Context& c, const json& v, const FieldPath& p) {
    if (!v.is_number_integer() || v.get<std::int64_t>() < 1 || v.get<std::int64_t>() > 65535) {
      c.error(p, "must be a port number between 1 and 65535");
    }
  };
}

Check duration() {
  return [](Context& c, const json& v, const FieldPath& p) {
    if (!v.is_string()) return c.error(p, "must be a duration such as \"1.5s\" or \"100ms\"");
    auto parsed = parseDuration(v.get_ref<const std::string&>());
    if (!parsed) c.error(p, parsed.status().message());
  };
}

Check enumOf(std::vector<std::string_view> values) {
  return [values = std::move(values)](Context& c, const json& v, const FieldPath& p) {
    if (v.is_string() &&
        std::find(values.begin(), values.end(), v.get_ref<const std::string&>()) != values.end()) {
      return;
    }
    std::string got = v.is_string() ? "\"" + v.get<std::string>() + "\"" : v.dump();
    c.error(p, "must be one of " + joined(values, "or") + " (got " + got + ")");
  };
}

Check regex() {
  return [](Context& c, const json& v, const FieldPath& p) {
    if (!v.is_string()) return c.error(p, "must be a string");
    std::string pattern = v.get<std::string>();
    if (pattern.size() > kMaxRegexLength) {
      return c.error(p, "regex longer than " + std::to_string(kMaxRegexLength) + " characters");
    }
    // Istio's regexes are RE2; std::regex (ECMAScript) reads the common subset. RE2's
    // leading inline flags, such as (?i), have no ECMAScript spelling: strip them here.
    auto flags = std::regex::ECMAScript;
    if (pattern.starts_with("(?")) {
      auto close = pattern.find(')');
      std::string_view inline_flags(pattern.data() + 2, close == std::string::npos ? 0 : close - 2);
      if (close != std::string::npos && !inline_flags.empty() &&
          inline_flags.find_first_not_of("imsU") == std::string_view::npos) {
        if (inline_flags.find('i') != std::string_view::npos) flags |= std::regex::icase;
        pattern.erase(0, close + 1);
      }
    }
    try {
      std::regex compiled(pattern, flags);
    } catch (const std::regex_error& e) {
      c.error(p, std::string("invalid regex: ") + e.what());
    }
  };
}

Check stringList() { return listOf(string()); }

Check stringMap() { return mapOf(string()); }

Check stringMatch() {
  static const Check check = object(
      {{"exact", string()}, {"prefix", string()}, {"regex", regex()}},
      {exactlyOneOf({"exact", "prefix", "regex"})});
  return check;
}

Check allOf(std::vector<Check> checks) {
  return [checks = std::move(checks)](Context& c, const json& v, const FieldPath& p) {
    for (const Check& check : checks) check(c, v, p);
  };
}

Check exactlyOneOf(std::vector<std::string_view> fields) {
  return [fields = std::move(fields)](Context& c, const json& v, const FieldPath& p) {
    if (v.is_object() && countSet(v, fields) != 1) {
      c.error(p, "must set exactly one of " + joined(fields, "or"));
    }
  };
}

Check atMostOneOf(std::vector<std::string_view> fields) {
  return [fields = std::move(fields)](Context& c, const json& v, const FieldPath& p) {
    if (v.is_object() && countSet(v, fields) > 1) {
      c.error(p, "may set only one of " + joined(fields, "and"));
    }
  };
}

Check oneOrMoreOf(std::vector<std::string_view> fields) {
  return [fields = std::move(fields)](Context& c, const json& v, const FieldPath& p) {
    if (v.is_object() && countSet(v, fields) == 0) {
      c.error(p, "must set " + joined(fields, "or"));
    }
  };
}

Check needs(std::string_view field, std::string_view other) {
  return [field, other](Context& c, const json& v, const FieldPath& p) {
    if (has(v, field) && !has(v, other)) {
      c.error(p.field(field), "requires " + std::string(other) + " to be set");
    }
  };
}

}  // namespace mesh::core::config::schema
