#include "proxy/capture/iptables_apply.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace mesh::proxy::capture {

using core::Code;

namespace {

struct Fd {
  int fd = -1;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

// Writes `input` and reads stdout at the same time, so that neither side can block the other
// on a full pipe.
core::Status pump(Fd& toChild, Fd& fromChild, std::string_view input, std::string& out) {
  size_t written = 0;
  if (input.empty()) toChild.reset();
  char buffer[16384];
  while (fromChild.fd >= 0) {
    pollfd fds[2] = {{fromChild.fd, POLLIN, 0}, {toChild.fd, POLLOUT, 0}};
    int n = ::poll(fds, toChild.fd >= 0 ? 2 : 1, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return core::error(Code::internal, std::string("poll: ") + std::strerror(errno));
    if (toChild.fd >= 0 && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t w = ::write(toChild.fd, input.data() + written, input.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      if (w < 0 && errno != EINTR && errno != EAGAIN) toChild.reset();  // it stopped reading
      if (written == input.size()) toChild.reset();
    }
    if (fds[0].revents & (POLLIN | POLLERR | POLLHUP)) {
      ssize_t r = ::read(fromChild.fd, buffer, sizeof buffer);
      if (r > 0) out.append(buffer, static_cast<size_t>(r));
      if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) fromChild.reset();
    }
  }
  return {};
}

}  // namespace

core::Result<std::string> runProgram(const std::vector<std::string>& argv, std::string_view input) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return core::error(Code::internal, "pipe failed");
  Fd inRead{in[0]}, inWrite{in[1]};
  if (::pipe2(out, O_CLOEXEC) != 0) return core::error(Code::internal, "pipe failed");
  Fd outRead{out[0]}, outWrite{out[1]};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, inRead.fd, 0);
  posix_spawn_file_actions_adddup2(&actions, outWrite.fd, 1);
  std::vector<std::string> args = argv;
  std::vector<char*> cargv;
  for (auto& arg : args) cargv.push_back(arg.data());
  cargv.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, cargv[0], &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return core::error(Code::unavailable, "cannot run " + argv[0] + ": " + std::strerror(rc));
  }
  inRead.reset();
  outWrite.reset();
  // Our ends never block: a write that waited for the child to read could wait forever
  // while the child waits for us to read its output.
  ::fcntl(inWrite.fd, F_SETFL, O_NONBLOCK);
  ::fcntl(outRead.fd, F_SETFL, O_NONBLOCK);
  // A child that exits without reading its input must not kill us with SIGPIPE.
  struct sigaction ignore {}, previous {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &previous);
  std::string output;
  core::Status pumped = pump(inWrite, outRead, input, output);
  ::sigaction(SIGPIPE, &previous, nullptr);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return core::error(Code::internal, "waitpid failed");
  }
  if (!pumped.ok()) return pumped;
  if (WIFSIGNALED(status)) {
    return core::error(Code::internal, argv[0] + " killed by signal " + std::to_string(WTERMSIG(status)));
  }
  if (WEXITSTATUS(status) != 0) {
    return core::error(Code::internal, argv[0] + " exited with status " + std::to_string(WEXITSTATUS(status)));
  }
  return output;
}

core::Status installCapture(const CaptureOptions& options, const IptablesCommands& commands) {
  auto saved = runProgram({commands.save, "-t", "nat"}, {});
  if (!saved) return saved.status();
  std::string rules = installRules(options, parseInstalled(*saved));
  auto restored = runProgram({commands.restore, "--noflush"}, rules);
  return restored.ok() ? core::Status{} : restored.status();
}

core::Status removeCapture(const IptablesCommands& commands) {
  auto saved = runProgram({commands.save, "-t", "nat"}, {});
  if (!saved) return saved.status();
  std::string rules = cleanupRules(parseInstalled(*saved));
  if (rules.empty()) return {};
  auto restored = runProgram({commands.restore, "--noflush"}, rules);
  return restored.ok() ? core::Status{} : restored.status();
}

}  // namespace mesh::proxy::capture
