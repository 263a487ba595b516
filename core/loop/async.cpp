#include "core/loop/async.h"

namespace mesh::core {

Async::Async(Loop& loop, Callback callback) : callback_(std::move(callback)) {
  uv_async_init(loop.raw(), async_.allocate(this), &Async::onSend);
}

Async::~Async() {
  if (destroyed_) *destroyed_ = true;
}

void Async::send() { uv_async_send(async_.get()); }

void Async::onSend(uv_async_t* handle) {
  auto* self = ownerOf<Async>(handle);
  if (!self || !self->callback_) return;
  bool destroyed = false;
  self->destroyed_ = &destroyed;
  self->callback_();  // the callback is never replaced, only the Async destroyed
  if (!destroyed) self->destroyed_ = nullptr;
}

}  // namespace mesh::core
