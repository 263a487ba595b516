#include "core/loop/fs_watch.h"

namespace mesh::core {

FsWatch::FsWatch(Loop& loop) { uv_fs_event_init(loop.raw(), watch_.allocate(this)); }

FsWatch::~FsWatch() {
  if (destroyed_) *destroyed_ = true;
}

Status FsWatch::start(const std::string& path, Callback callback) {
  stop();
  if (int rc = uv_fs_event_start(watch_.get(), &FsWatch::onEvent, path.c_str(), 0); rc != 0) {
    return uvStatus(rc, "watch " + path);
  }
  path_ = path;
  callback_ = std::move(callback);
  return {};
}

void FsWatch::stop() { uv_fs_event_stop(watch_.get()); }

bool FsWatch::isActive() const {
  return uv_is_active(reinterpret_cast<const uv_handle_t*>(watch_.get())) != 0;
}

void FsWatch::onEvent(uv_fs_event_t* handle, const char* name, int events, int status) {
  auto* self = ownerOf<FsWatch>(handle);
  if (!self || !self->callback_) return;
  FsChange change;
  change.name = name ? std::string_view(name) : std::string_view();
  change.renamed = (events & UV_RENAME) != 0;
  change.changed = (events & UV_CHANGE) != 0;
  if (status < 0) {
    self->stop();
    change.status = uvStatus(status, "watch " + self->path_);
  }
  bool destroyed = false;
  self->destroyed_ = &destroyed;
  Callback callback = std::move(self->callback_);
  self->callback_ = nullptr;
  callback(change);
  if (destroyed) return;
  self->destroyed_ = nullptr;
  if (!self->callback_) self->callback_ = std::move(callback);
}

}  // namespace mesh::core
