#include "cmd/up/config_mirror.h"

#include <fstream>
#include <set>
#include <sstream>

namespace mesh::cmd::up {

namespace fs = std::filesystem;

namespace {

bool isConfigFile(const fs::path& path) {
  auto ext = path.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

bool readFile(const fs::path& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream text;
  text << in.rdbuf();
  out = text.str();
  return static_cast<bool>(in) || in.eof();
}

bool writeAtomically(const fs::path& path, const std::string& text) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  fs::path tmp = path;
  tmp += ".tmp~";  // not a config file name: pilot ignores it
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    // Owner only, before a byte is written: a Secret in DIR holds a private key.
    fs::permissions(tmp, fs::perms::owner_read | fs::perms::owner_write, ec);
    if (ec || !out || !(out << text) || !out.flush()) return false;
  }
  fs::rename(tmp, path, ec);
  return !ec;
}

// The lines of `transformed` that are not in `original`, for a transform that only inserts
// whole lines (1-based).
std::vector<int> insertedLines(const std::string& original, const std::string& transformed) {
  std::vector<int> out;
  std::istringstream a(original), b(transformed);
  std::string left, right;
  bool haveLeft = static_cast<bool>(std::getline(a, left));
  int line = 0;
  while (std::getline(b, right)) {
    ++line;
    if (haveLeft && left == right) {
      haveLeft = static_cast<bool>(std::getline(a, left));
    } else {
      out.push_back(line);
    }
  }
  return out;
}

}  // namespace

std::pair<std::string, int> placeInDir(const MirrorResult& mirrored, const fs::path& dir,
                                       const fs::path& mirror, const std::string& file, int line) {
  fs::path path = fs::path(file).lexically_normal();
  std::error_code ec;
  fs::path relative = fs::relative(path, mirror, ec);
  if (ec || relative.empty() || *relative.begin() == "..") return {file, line};
  int shift = 0;
  if (auto it = mirrored.insertedLines.find(path); it != mirrored.insertedLines.end()) {
    for (int inserted : it->second) shift += inserted < line ? 1 : 0;
  }
  return {(dir / relative).lexically_normal().string(), line - shift};
}

bool isSkippedDirectory(const fs::path& relative) {
  auto first = relative.begin();
  if (first != relative.end() && *first == "samples") return true;
  for (const auto& part : relative) {
    std::string name = part.string();
    if (!name.empty() && name[0] == '.' && name != "." && name != "..") return true;
  }
  return false;
}

MirrorResult syncMirror(const fs::path& dir, const fs::path& mirror,
                        const std::function<std::string(const std::string&)>& transform,
                        const fs::path& stateDir) {
  MirrorResult result;
  std::set<fs::path> wanted;
  std::error_code ec;
  result.watched.push_back(dir);
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) result.errors.push_back(dir.string() + ": " + ec.message());
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    fs::path relative = fs::relative(it->path(), dir, ec);
    if (ec) break;
    if (it->is_directory(ec)) {
      std::error_code same;
      bool isStateDir = !stateDir.empty() && fs::equivalent(it->path(), stateDir, same);
      if (isSkippedDirectory(relative) || isStateDir) {
        it.disable_recursion_pending();
      } else {
        result.watched.push_back(it->path());
      }
      continue;
    }
    if (!it->is_regular_file(ec) || !isConfigFile(it->path())) continue;
    wanted.insert(relative);
    std::string text, old;
    if (!readFile(it->path(), text)) {
      result.errors.push_back(it->path().string() + ": cannot read");
      continue;
    }
    fs::path target = mirror / relative;
    if (transform && it->path().extension() != ".json") {
      std::string original = std::move(text);
      text = transform(original);
      if (text != original) {
        result.insertedLines[target.lexically_normal()] = insertedLines(original, text);
      }
    }
    if (readFile(target, old) && old == text) continue;
    if (!writeAtomically(target, text)) {
      result.errors.push_back(target.string() + ": cannot write");
      continue;
    }
    result.changed = true;
  }
  // Files gone from DIR leave the copy too.
  std::vector<fs::path> stale;
  for (fs::recursive_directory_iterator m(mirror, ec), end; !ec && m != end; m.increment(ec)) {
    if (m->is_regular_file(ec) && !wanted.count(fs::relative(m->path(), mirror, ec))) {
      stale.push_back(m->path());
    }
  }
  for (const auto& path : stale) {
    fs::remove(path, ec);
    result.changed = true;
  }
  return result;
}

}  // namespace mesh::cmd::up
