// Signals, file watches and child processes: the loop's contact with the operating system.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/loop/fs_watch.h"
#include "core/loop/process.h"
#include "core/loop/signals.h"
#include "tests/unit/loop/loop_fixture.h"

using namespace mesh::core;
using namespace std::chrono_literals;
using mesh::test::LoopFixture;

namespace {

// A fresh directory under $TMPDIR, removed with its contents at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "mesh-loop-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

struct Collector : StreamSink {
  std::string data;
  bool eof = false;
  void onData(ByteView bytes) override { data.append(bytes.data(), bytes.size()); }
  void onEof() override { eof = true; }
  void onError(const Status&) override { eof = true; }
};

}  // namespace

TEST_CASE_METHOD(LoopFixture, "SIGINT and SIGTERM sent to ourselves reach the loop",
                 "[loop][signal]") {
  Signal interrupt(loop), terminate(loop);
  int got = 0, count = 0;
  REQUIRE(interrupt
              .start(SIGINT,
                     [&](int signum) {
                       got = signum;
                       ++count;
                     })
              .ok());
  REQUIRE(terminate
              .start(SIGTERM,
                     [&](int signum) {
                       got = signum;
                       ++count;
                     })
              .ok());
  REQUIRE(::kill(::getpid(), SIGTERM) == 0);
  runUntil([&] { return count == 1; });
  CHECK(got == SIGTERM);
  REQUIRE(::raise(SIGINT) == 0);
  runUntil([&] { return count == 2; });
  CHECK(got == SIGINT);
  CHECK(interrupt.isActive());
}

TEST_CASE_METHOD(LoopFixture, "A one-shot signal handler stops after one delivery",
                 "[loop][signal]") {
  Signal usr1(loop);
  int count = 0;
  REQUIRE(usr1.start(
                  SIGUSR1, [&](int) { ++count; }, /*once=*/true)
              .ok());
  REQUIRE(::raise(SIGUSR1) == 0);
  runUntil([&] { return count == 1; });
  CHECK_FALSE(usr1.isActive());
}

TEST_CASE_METHOD(LoopFixture, "A bad signal number is an error and never calls back",
                 "[loop][signal]") {
  Signal bad(loop);
  CHECK(bad.start(0, [](int) { FAIL("called"); }).code() == Code::invalid);
  CHECK_FALSE(bad.isActive());
}

TEST_CASE_METHOD(LoopFixture, "FsWatch sees a file written in a watched directory", "[loop][fs]") {
  TempDir dir;
  FsWatch watch(loop);
  bool sawConfig = false;
  REQUIRE(watch
              .start(dir.str(),
                     [&](const FsChange& change) {
                       REQUIRE(change.status.ok());
                       if (change.name == "config.yaml") sawConfig = true;
                     })
              .ok());
  CHECK(watch.path() == dir.str());
  {
    std::ofstream out(dir / "config.yaml");
    out << "kind: VirtualService\n";
  }
  runUntil([&] { return sawConfig; });
}

TEST_CASE_METHOD(LoopFixture, "FsWatch on a file sees it change; a missing path is an error",
                 "[loop][fs]") {
  TempDir dir;
  std::string path = dir / "mesh.yaml";
  { std::ofstream(path) << "a: 1\n"; }
  FsWatch watch(loop);
  int changes = 0;
  REQUIRE(watch
              .start(path,
                     [&](const FsChange& change) {
                       if (change.changed) ++changes;
                     })
              .ok());
  { std::ofstream(path, std::ios::app) << "b: 2\n"; }
  runUntil([&] { return changes > 0; });

  FsWatch missing(loop);
  CHECK(missing.start(dir / "nope", [](const FsChange&) { FAIL("called"); }).code() ==
        Code::not_found);
}

TEST_CASE_METHOD(LoopFixture, "A child's exit status reaches the exit callback",
                 "[loop][process]") {
  Process child(loop);
  ProcessOptions options;
  options.file = "/bin/sh";
  options.args = {"-c", "exit 3"};
  std::optional<ExitStatus> exit;
  REQUIRE(child.spawn(options, [&](ExitStatus status) { exit = status; }).ok());
  CHECK(child.pid() > 0);
  CHECK(child.running());
  runUntil([&] { return exit.has_value(); });
  CHECK(exit->code == 3);
  CHECK(exit->signal == 0);
  CHECK_FALSE(child.running());
  CHECK(child.kill(SIGTERM).code() == Code::unavailable);
}

TEST_CASE_METHOD(LoopFixture, "A child killed by a signal reports the signal", "[loop][process]") {
  Process child(loop);
  ProcessOptions options;
  options.file = "sleep";  // found through PATH
  options.args = {"30"};
  std::optional<ExitStatus> exit;
  REQUIRE(child.spawn(options, [&](ExitStatus status) { exit = status; }).ok());
  REQUIRE(child.kill(SIGTERM).ok());
  runUntil([&] { return exit.has_value(); });
  CHECK(exit->signal == SIGTERM);
}

TEST_CASE_METHOD(LoopFixture, "A program that cannot run is an error and never calls back",
                 "[loop][process]") {
  Process child(loop);
  ProcessOptions options;
  options.file = "/nonexistent/mesh-no-such-program";
  Status st = child.spawn(options, [](ExitStatus) { FAIL("called"); });
  CHECK(st.code() == Code::not_found);
  CHECK_FALSE(child.running());
  loop.runNoWait();
}

TEST_CASE_METHOD(LoopFixture, "A child's stdout comes through a pipe, stderr goes to a file",
                 "[loop][process]") {
  TempDir dir;
  Process child(loop);
  ProcessOptions options;
  options.file = "/bin/sh";
  options.args = {"-c", "read line; echo \"got $line from $MESH_TEST in $(pwd)\"; echo oops >&2"};
  options.env = std::vector<std::string>{"MESH_TEST=env", "PATH=/usr/bin:/bin"};
  options.cwd = dir.str();
  options.in = Stdio::pipe();
  options.out = Stdio::pipe();
  options.err = Stdio::file(dir / "stderr.log");
  std::optional<ExitStatus> exit;
  REQUIRE(child.spawn(options, [&](ExitStatus status) { exit = status; }).ok());
  REQUIRE(child.pipe(0) != nullptr);
  REQUIRE(child.pipe(2) == nullptr);
  Collector out;
  REQUIRE(child.pipe(1)->startReading(out).ok());
  REQUIRE(child.pipe(0)->write(std::string("ping\n"), nullptr).ok());
  REQUIRE(child.pipe(0)->shutdown(nullptr).ok());
  runUntil([&] { return exit.has_value() && out.eof; });
  CHECK(exit->code == 0);
  auto realDir = std::filesystem::canonical(dir.str()).string();
  CHECK(out.data == "got ping from env in " + realDir + "\n");
  CHECK(slurp(dir / "stderr.log") == "oops\n");
}

TEST_CASE_METHOD(LoopFixture, "Destroying a Process kills and reaps its running child",
                 "[loop][process]") {
  int pid = 0;
  {
    Process child(loop);
    ProcessOptions options;
    options.file = "sleep";
    options.args = {"30"};
    options.out = Stdio::ignore();
    REQUIRE(child.spawn(options, [](ExitStatus) { FAIL("exit callback after destruction"); }).ok());
    pid = child.pid();
    REQUIRE(::kill(pid, 0) == 0);
  }
  // Reaped: the pid no longer names even a zombie.
  CHECK(::kill(pid, 0) == -1);
  CHECK(errno == ESRCH);
}
