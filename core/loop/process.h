// Process: a child process (uv_spawn) owned by one object. The exit callback reports the exit
// code or the signal that ended it. A child still running when its Process is destroyed is
// killed with SIGKILL and reaped, so tests and `mesh up` never leave orphans or zombies.
#pragma once

#include <uv.h>

#include <csignal>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/status.h"
#include "core/loop/handle.h"
#include "core/loop/loop.h"
#include "core/loop/pipe.h"

namespace mesh::core {

// Where one of the child's fds 0, 1, 2 goes.
struct Stdio {
  enum class Kind { inherit, ignore, pipe, file };
  Kind kind = Kind::inherit;
  std::string path;  // Kind::file: read for stdin; created or truncated (or appended) otherwise
  bool append = false;

  static Stdio inherit() { return {}; }
  static Stdio ignore() { return {Kind::ignore, {}, false}; }  // /dev/null
  // A PipeStream in the parent, from Process::pipe(fd).
  static Stdio pipe() { return {Kind::pipe, {}, false}; }
  static Stdio file(std::string path, bool append = false) {
    return {Kind::file, std::move(path), append};
  }
};

struct ProcessOptions {
  std::string file;               // the program; looked up in PATH when it has no '/'
  std::vector<std::string> args;  // argv[1...]; argv[0] is `file`
  // "NAME=value" entries; unset: the child inherits our environment.
  std::optional<std::vector<std::string>> env;
  std::string cwd;  // empty: ours
  Stdio in, out, err;
};

struct ExitStatus {
  std::int64_t code = 0;  // exit code when it exited
  int signal = 0;         // the signal that killed it, 0 when it exited
};

class Process {
 public:
  using ExitCallback = std::function<void(ExitStatus)>;

  explicit Process(Loop& loop);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Starts the child. A program that cannot be executed (not found, not executable) is an
  // error here and `onExit` never runs. One spawn per Process.
  Status spawn(const ProcessOptions& options, ExitCallback onExit);
  Status kill(int signum = SIGTERM);
  int pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !exited_; }
  // The parent's end of fd 0, 1 or 2 when it was Stdio::pipe(); null otherwise. Owned by the
  // Process; reading stdout to EOF may finish before or after the exit callback.
  PipeStream* pipe(int fd) const;

 private:
  static void onExit(uv_process_t* handle, std::int64_t code, int signal);

  Loop& loop_;
  ExitCallback onExit_;
  int pid_ = 0;
  bool exited_ = false;
  std::unique_ptr<PipeStream> pipes_[3];
  HandleOwner<uv_process_t> process_;
};

}  // namespace mesh::core
