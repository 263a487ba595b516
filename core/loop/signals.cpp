#include "core/loop/signals.h"

#include <string>

namespace mesh::core {

Signal::Signal(Loop& loop) { uv_signal_init(loop.raw(), signal_.allocate(this)); }

Signal::~Signal() {
  if (destroyed_) *destroyed_ = true;
}

Status Signal::start(int signum, Callback callback, bool once) {
  int rc = once ? uv_signal_start_oneshot(signal_.get(), &Signal::onSignal, signum)
                : uv_signal_start(signal_.get(), &Signal::onSignal, signum);
  if (rc != 0) return uvStatus(rc, "signal " + std::to_string(signum));
  callback_ = std::move(callback);
  return {};
}

void Signal::stop() { uv_signal_stop(signal_.get()); }

bool Signal::isActive() const {
  return uv_is_active(reinterpret_cast<const uv_handle_t*>(signal_.get())) != 0;
}

void Signal::onSignal(uv_signal_t* handle, int signum) {
  auto* self = ownerOf<Signal>(handle);
  if (!self || !self->callback_) return;
  bool destroyed = false;
  self->destroyed_ = &destroyed;
  Callback callback = std::move(self->callback_);
  self->callback_ = nullptr;
  callback(signum);
  if (destroyed) return;
  self->destroyed_ = nullptr;
  if (!self->callback_) self->callback_ = std::move(callback);
}

}  // namespace mesh::core
