#include "core/loop/process.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace mesh::core {

namespace {

// The file descriptors opened for Stdio::file, closed once the child has its copies.
struct OpenFiles {
  std::vector<int> fds;
  ~OpenFiles() {
    for (int fd : fds) ::close(fd);
  }
};

std::vector<char*> cStrings(const std::vector<std::string>& strings, const std::string* first) {
  std::vector<char*> out;
  if (first) out.push_back(const_cast<char*>(first->c_str()));
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

Process::Process(Loop& loop) : loop_(loop) {}

Process::~Process() {
  if (!running()) return;
  // Closing the handle takes the child off libuv's list, so nobody else will wait for it.
  int pid = pid_;
  ::kill(pid, SIGKILL);
  process_.reset();
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

Status Process::spawn(const ProcessOptions& options, ExitCallback onExit) {
  if (process_) return error(Code::invalid, "spawn: this Process already spawned");
  if (options.file.empty()) return error(Code::invalid, "spawn: no program");
  OpenFiles files;
  uv_stdio_container_t stdio[3];
  const Stdio* specs[3] = {&options.in, &options.out, &options.err};
  for (int fd = 0; fd < 3; ++fd) {
    const Stdio& spec = *specs[fd];
    switch (spec.kind) {
      case Stdio::Kind::inherit:
        stdio[fd].flags = UV_INHERIT_FD;
        stdio[fd].data.fd = fd;
        break;
      case Stdio::Kind::ignore:
        stdio[fd].flags = UV_IGNORE;
        break;
      case Stdio::Kind::pipe:
        pipes_[fd] = std::make_unique<PipeStream>(loop_);
        stdio[fd].flags = static_cast<uv_stdio_flags>(
            UV_CREATE_PIPE | (fd == 0 ? UV_READABLE_PIPE : UV_WRITABLE_PIPE));
        stdio[fd].data.stream = pipes_[fd]->raw();
        break;
      case Stdio::Kind::file: {
        int flags = fd == 0 ? O_RDONLY : O_WRONLY | O_CREAT | (spec.append ? O_APPEND : O_TRUNC);
        int file = ::open(spec.path.c_str(), flags | O_CLOEXEC, 0644);
        if (file < 0) return uvStatus(-errno, "spawn: open " + spec.path);
        files.fds.push_back(file);
        stdio[fd].flags = UV_INHERIT_FD;
        stdio[fd].data.fd = file;
        break;
      }
    }
  }
  auto argv = cStrings(options.args, &options.file);
  std::vector<char*> envp;
  if (options.env) envp = cStrings(*options.env, nullptr);

  uv_process_options_t uvOptions{};
  uvOptions.exit_cb = &Process::onExit;
  uvOptions.file = options.file.c_str();
  uvOptions.args = argv.data();
  uvOptions.env = options.env ? envp.data() : nullptr;
  uvOptions.cwd = options.cwd.empty() ? nullptr : options.cwd.c_str();
  uvOptions.stdio_count = 3;
  uvOptions.stdio = stdio;

  // uv_spawn initialises the handle even when it fails, so it is owned (and closed) either way.
  int rc = uv_spawn(loop_.raw(), process_.allocate(this), &uvOptions);
  if (rc != 0) {
    process_.reset();
    for (auto& pipe : pipes_) pipe.reset();
    return uvStatus(rc, "spawn " + options.file);
  }
  pid_ = process_.get()->pid;
  onExit_ = std::move(onExit);
  return {};
}

Status Process::kill(int signum) {
  if (!running()) return error(Code::unavailable, "kill: no running child");
  return uvStatus(uv_process_kill(process_.get(), signum), "kill " + std::to_string(pid_));
}

PipeStream* Process::pipe(int fd) const { return fd >= 0 && fd < 3 ? pipes_[fd].get() : nullptr; }

void Process::onExit(uv_process_t* handle, std::int64_t code, int signal) {
  auto* self = ownerOf<Process>(handle);
  if (!self) return;
  self->exited_ = true;
  // The handle stays open (inactive) until the Process is destroyed: pid() stays readable.
  if (!self->onExit_) return;
  ExitCallback callback = std::move(self->onExit_);
  self->onExit_ = nullptr;
  callback(ExitStatus{code, signal});
}

}  // namespace mesh::core
