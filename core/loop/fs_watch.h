// FsWatch: a uv_fs_event_t in RAII form, for config hot reload. Watch the directory rather
// than the file when the file is replaced by rename (editors, `kubectl` ConfigMap symlink
// swaps): a watch on a file follows the old inode and goes quiet after the first replace.
// Events may be coalesced or repeated; treat each as "look again", not as a diff.
#pragma once

#include <uv.h>

#include <functional>
#include <string>
#include <string_view>

#include "core/base/status.h"
#include "core/loop/handle.h"
#include "core/loop/loop.h"

namespace mesh::core {

struct FsChange {
  // The entry that changed, relative to a watched directory (the file's own name when a file
  // is watched). May be empty when the platform does not say.
  std::string_view name;
  bool renamed = false;  // created, deleted or renamed
  bool changed = false;  // contents or attributes
  // Not ok when watching failed; the watch is stopped then.
  Status status;
};

class FsWatch {
 public:
  using Callback = std::function<void(const FsChange&)>;

  explicit FsWatch(Loop& loop);
  ~FsWatch();
  FsWatch(const FsWatch&) = delete;
  FsWatch& operator=(const FsWatch&) = delete;

  // Watches `path` (a file or a directory, not recursively). A missing path is an error.
  Status start(const std::string& path, Callback callback);
  void stop();
  bool isActive() const;
  const std::string& path() const { return path_; }

 private:
  static void onEvent(uv_fs_event_t* handle, const char* name, int events, int status);

  Callback callback_;
  std::string path_;
  bool* destroyed_ = nullptr;
  HandleOwner<uv_fs_event_t> watch_;
};

}  // namespace mesh::core
