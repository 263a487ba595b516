#include "pilot/kube/kubectl.h"

#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

extern char** environ;

namespace mesh::pilot::kube {

using core::Code;
using core::Result;

namespace {

bool isExecutableFile(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
         ::access(path.c_str(), X_OK) == 0;
}

// A private temporary file holding the manifests; removed when this goes away.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    std::string dir = std::filesystem::temp_directory_path().string();
    std::string pattern = dir + "/mesh-manifests-XXXXXX";
    int fd = ::mkstemp(pattern.data());
    if (fd < 0) return;
    path_ = pattern;
    std::size_t written = 0;
    while (written < content.size()) {
      ssize_t n = ::write(fd, content.data() + written, content.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      written += static_cast<std::size_t>(n);
    }
    ok_ = written == content.size();
    ::close(fd);
  }
  ~TempFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  bool ok() const { return ok_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool ok_ = false;
};

}  // namespace

std::string findExecutable(const std::string& program, const std::string& pathEnv) {
  if (program.empty()) return {};
  if (program.find('/') != std::string::npos) return isExecutableFile(program) ? program : "";
  std::size_t start = 0;
  while (start <= pathEnv.size()) {
    std::size_t end = pathEnv.find(':', start);
    if (end == std::string::npos) end = pathEnv.size();
    // An empty PATH entry means the current directory.
    std::string candidate =
        end == start ? "./" + program : pathEnv.substr(start, end - start) + "/" + program;
    if (isExecutableFile(candidate)) return candidate;
    start = end + 1;
  }
  return {};
}

Result<int> runKubectl(const std::string& kubectl, const std::vector<std::string>& args,
                       const std::string& manifests) {
  TempFile file(manifests);
  if (!file.ok()) {
    return core::error(
        Code::internal,
        std::string("cannot write the manifests to a temporary file: ") + std::strerror(errno));
  }
  std::vector<std::string> argv = {kubectl};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("-f");
  argv.push_back(file.path());
  std::vector<char*> cargv;
  for (auto& arg : argv) cargv.push_back(arg.data());
  cargv.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, kubectl.c_str(), nullptr, nullptr, cargv.data(), environ);
  if (rc != 0) {
    return core::error(Code::unavailable, "cannot run " + kubectl + ": " + std::strerror(rc));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return core::error(Code::internal, "waitpid failed");
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

}  // namespace mesh::pilot::kube
