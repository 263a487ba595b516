#include "cmd/up/service_addresses.h"

#include <vector>

namespace mesh::cmd::up {

namespace {

struct Line {
  std::string text;  // without its end of line
  std::string end;   // "\n", "\r\n" or "" (the last line)
};

std::vector<Line> splitLines(const std::string& text) {
  std::vector<Line> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    std::size_t stop = nl == std::string::npos ? text.size() : nl;
    Line line{text.substr(start, stop - start), nl == std::string::npos ? "" : "\n"};
    if (!line.text.empty() && line.text.back() == '\r') {
      line.text.pop_back();
      line.end = "\r" + line.end;
    }
    lines.push_back(std::move(line));
    start = stop + 1;
  }
  return lines;
}

std::size_t indentOf(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  return i;
}

bool isBlankOrComment(const std::string& s) {
  std::size_t i = indentOf(s);
  return i == s.size() || s[i] == '#';
}

bool isDocumentMarker(const std::string& s) {
  return s == "---" || s.rfind("--- ", 0) == 0 || s == "...";
}

// The value of `key: value` when `line` (without indentation) is that key; unquoted, without
// a trailing comment. Empty for a key with no value on its line (a block follows).
bool keyValue(const std::string& line, const std::string& key, std::string& value) {
  if (line.compare(0, key.size() + 1, key + ":") != 0) return false;
  std::string v = line.substr(key.size() + 1);
  if (auto hash = v.find(" #"); hash != std::string::npos) v.erase(hash);
  std::size_t a = v.find_first_not_of(" \t"), b = v.find_last_not_of(" \t");
  v = a == std::string::npos ? "" : v.substr(a, b - a + 1);
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
    v = v.substr(1, v.size() - 2);
  value = v;
  return true;
}

// The lines of the block under the top-level key at `at`: [at + 1, end) and the indentation of
// its keys (0 when it has none on lines of their own).
std::size_t blockIndent(const std::vector<Line>& lines, std::size_t at, std::size_t end) {
  for (std::size_t i = at + 1; i < end; ++i) {
    if (isBlankOrComment(lines[i].text)) continue;
    return indentOf(lines[i].text);
  }
  return 0;
}

// The value of `key` among the keys at `indent` of the block starting after `at`.
bool blockValue(const std::vector<Line>& lines, std::size_t at, std::size_t end, std::size_t indent,
                const std::string& key, std::string& value) {
  for (std::size_t i = at + 1; i < end; ++i) {
    const std::string& t = lines[i].text;
    if (isBlankOrComment(t)) continue;
    std::size_t in = indentOf(t);
    if (in == 0) return false;  // the next top-level key
    if (in == indent && keyValue(t.substr(in), key, value)) return true;
  }
  return false;
}

// One document [begin, end): the line to insert before and the text to insert, if it is a
// Service that needs an address.
bool planInsert(
    const std::vector<Line>& lines, std::size_t begin, std::size_t end,
    const std::function<std::string(const std::string&, const std::string&)>& addressFor,
    std::size_t& insertAt, std::string& insert) {
  std::size_t metadata = end, spec = end;
  bool service = false, v1 = false;
  for (std::size_t i = begin; i < end; ++i) {
    const std::string& t = lines[i].text;
    std::string value;
    if (t.empty() || t[0] == ' ' || t[0] == '#') continue;
    if (keyValue(t, "kind", value)) service = value == "Service";
    if (keyValue(t, "apiVersion", value)) v1 = value == "v1";
    if (keyValue(t, "metadata", value) && value.empty()) metadata = i;
    if (keyValue(t, "spec", value) && value.empty()) spec = i;
  }
  if (!service || !v1 || metadata == end || spec == end) return false;
  std::size_t metaIndent = blockIndent(lines, metadata, end);
  std::size_t specIndent = blockIndent(lines, spec, end);
  std::string name, ns = "default", value;
  if (metaIndent == 0 || specIndent == 0) return false;
  if (!blockValue(lines, metadata, end, metaIndent, "name", name) || name.empty()) return false;
  if (blockValue(lines, metadata, end, metaIndent, "namespace", value) && !value.empty())
    ns = value;
  if (blockValue(lines, spec, end, specIndent, "clusterIP", value)) return false;
  if (blockValue(lines, spec, end, specIndent, "type", value) && value == "ExternalName")
    return false;
  std::string address = addressFor(ns, name);
  if (address.empty()) return false;
  insertAt = spec + 1;
  insert = std::string(specIndent, ' ') + "clusterIP: " + address;
  return true;
}

}  // namespace

std::string withClusterIps(
    const std::string& text,
    const std::function<std::string(const std::string& ns, const std::string& name)>& addressFor) {
  std::vector<Line> lines = splitLines(text);
  std::map<std::size_t, std::string> inserts;  // before line index -> text
  std::size_t begin = 0;
  for (std::size_t i = 0; i <= lines.size(); ++i) {
    if (i < lines.size() && !isDocumentMarker(lines[i].text)) continue;
    std::size_t at = 0;
    std::string insert;
    if (planInsert(lines, begin, i, addressFor, at, insert)) inserts[at] = insert;
    begin = i + 1;
  }
  if (inserts.empty()) return text;
  std::string eol = lines.empty() || lines.front().end.empty() ? "\n" : lines.front().end;
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (auto it = inserts.find(i); it != inserts.end()) out += it->second + eol;
    out += lines[i].text + lines[i].end;
  }
  return out;
}

std::string podHostsFile(const std::string& podNamespace, const std::string& podName,
                         const std::string& podAddress, const ServiceAddresses& services) {
  std::string out = "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n";
  out += podAddress + " " + podName + "\n";
  for (const auto& [key, address] : services) {
    std::string ns = key.substr(0, key.find('/'));
    std::string name = key.substr(key.find('/') + 1);
    out += address + " " + name + "." + ns + ".svc.cluster.local " + name + "." + ns + ".svc " +
           name + "." + ns + (ns == podNamespace ? " " + name : "") + "\n";
  }
  return out;
}

std::string podResolvConf(const std::string& podNamespace) {
  return "nameserver 127.0.0.1\nsearch " + podNamespace +
         ".svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 attempts:1\n";
}

}  // namespace mesh::cmd::up
