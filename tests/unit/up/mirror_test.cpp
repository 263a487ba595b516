#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "cmd/up/config_mirror.h"
#include "cmd/up/table.h"

namespace up = mesh::cmd::up;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "mesh-up-test-XXXXXX").string();
    path = ::mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path); }
};

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

std::string read(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("the copy given to pilot leaves samples/ and hidden directories out and follows edits") {
  TempDir dir, mirror;
  write(dir.path / "bookinfo.yaml", "a");
  write(dir.path / "networking" / "gw.yaml", "b");
  write(dir.path / "samples" / "vs.yaml", "c");
  write(dir.path / ".git" / "x.yaml", "d");
  write(dir.path / "notes.txt", "e");
  auto r = up::syncMirror(dir.path, mirror.path);
  CHECK(r.errors.empty());
  CHECK(r.changed);
  CHECK(read(mirror.path / "bookinfo.yaml") == "a");
  CHECK(read(mirror.path / "networking" / "gw.yaml") == "b");
  // Owner only: a Secret copied here holds a private key.
  CHECK((fs::status(mirror.path / "bookinfo.yaml").permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write));
  CHECK_FALSE(fs::exists(mirror.path / "samples"));
  CHECK_FALSE(fs::exists(mirror.path / ".git"));
  CHECK_FALSE(fs::exists(mirror.path / "notes.txt"));
  CHECK(r.watched.size() == 2);  // DIR and networking/

  CHECK_FALSE(up::syncMirror(dir.path, mirror.path).changed);  // nothing new: nothing rewritten

  // A sample copied in is applied; a file removed goes away.
  fs::copy_file(dir.path / "samples" / "vs.yaml", dir.path / "networking" / "vs.yaml");
  fs::remove(dir.path / "bookinfo.yaml");
  r = up::syncMirror(dir.path, mirror.path);
  CHECK(r.changed);
  CHECK(read(mirror.path / "networking" / "vs.yaml") == "c");
  CHECK_FALSE(fs::exists(mirror.path / "bookinfo.yaml"));
}

TEST_CASE("a state directory inside DIR is not copied into itself") {
  TempDir dir;
  write(dir.path / "bookinfo.yaml", "a");
  fs::path state = dir.path / "state";
  write(state / "mesh-up.json", "{}");
  fs::path mirror = state / "config";
  // Given as the user typed it, with a "." in the middle: still recognised.
  auto r = up::syncMirror(dir.path / ".", mirror, {}, state);
  CHECK(r.errors.empty());
  CHECK(read(mirror / "bookinfo.yaml") == "a");
  CHECK_FALSE(fs::exists(mirror / "state"));
  CHECK_FALSE(fs::exists(mirror / "mesh-up.json"));
  CHECK(r.watched.size() == 1);  // the state directory's logs are not changes to DIR
  CHECK_FALSE(up::syncMirror(dir.path / ".", mirror, {}, state).changed);
}

TEST_CASE("a problem in the copy is told at its file and line in DIR") {
  TempDir dir, mirror;
  write(dir.path / "networking" / "svc.yaml", "kind: Service\nspec:\n  ports: []\n---\nbad: [\n");
  // A transform that inserts a line after "spec:", as --netns adds a Service's cluster IP.
  auto addIp = [](const std::string& text) {
    std::string out = text;
    out.insert(out.find("spec:\n") + 6, "  clusterIP: 10.0.0.1\n");
    return out;
  };
  auto r = up::syncMirror(dir.path, mirror.path, addIp);
  REQUIRE(read(mirror.path / "networking" / "svc.yaml").find("clusterIP") != std::string::npos);
  std::string copy = (mirror.path / "networking" / "svc.yaml").string();
  // Line 6 of the copy ("bad: [") is line 5 of the user's file; line 2 ("spec:") stays 2.
  auto [file, line] = up::placeInDir(r, dir.path, mirror.path, copy, 6);
  CHECK(file == (dir.path / "networking" / "svc.yaml").string());
  CHECK(line == 5);
  CHECK(up::placeInDir(r, dir.path, mirror.path, copy, 2).second == 2);
  // Elsewhere than the copy: as it was.
  CHECK(up::placeInDir(r, dir.path, mirror.path, "/etc/other.yaml", 3) ==
        std::pair<std::string, int>{"/etc/other.yaml", 3});
}

TEST_CASE("skipped directories") {
  CHECK(up::isSkippedDirectory("samples"));
  CHECK(up::isSkippedDirectory("samples/deeper"));
  CHECK(up::isSkippedDirectory(".hidden"));
  CHECK(up::isSkippedDirectory("networking/.old"));
  CHECK_FALSE(up::isSkippedDirectory("networking"));
  CHECK_FALSE(up::isSkippedDirectory("networking/samples"));  // only DIR/samples
}

TEST_CASE("the table lines its columns up") {
  auto text = up::formatTable(
      {{"productpage-v1-0", "default", "spiffe://cluster.local/ns/default/sa/bookinfo-productpage",
        "http://127.0.0.1:4100", "http://127.0.0.1:4101", "http://127.0.0.1:4101/stats/prometheus"},
       {"a", "b", "c", "d", "e", "f"}});
  auto first = text.substr(0, text.find('\n'));
  CHECK(first.rfind("WORKLOAD", 0) == 0);
  auto second = text.substr(first.size() + 1);
  CHECK(second.find("default") == first.find("NAMESPACE"));
  CHECK(text.find("\na ") != std::string::npos);
  auto third = text.substr(text.rfind("\na ") + 1);
  CHECK(third.find('f') == first.find("METRICS URL"));
}
