#include "core/loop/timer.h"

namespace mesh::core {

Timer::Timer(Loop& loop) { uv_timer_init(loop.raw(), timer_.allocate(this)); }

Timer::~Timer() {
  if (destroyed_) *destroyed_ = true;
}

void Timer::start(std::chrono::milliseconds timeout, Callback callback) {
  callback_ = std::move(callback);
  timeout_ = timeout;
  repeating_ = false;
  started_ = true;
  restart();
}

void Timer::startRepeating(std::chrono::milliseconds interval, Callback callback) {
  callback_ = std::move(callback);
  timeout_ = interval;
  repeating_ = true;
  started_ = true;
  restart();
}

void Timer::restart() {
  if (!started_) return;
  auto ms = static_cast<std::uint64_t>(std::max<std::int64_t>(timeout_.count(), 0));
  uv_timer_start(timer_.get(), &Timer::onFire, ms, repeating_ ? std::max<std::uint64_t>(ms, 1) : 0);
}

void Timer::stop() { uv_timer_stop(timer_.get()); }

void Timer::unref() { uv_unref(reinterpret_cast<uv_handle_t*>(timer_.get())); }

bool Timer::isActive() const {
  return uv_is_active(reinterpret_cast<const uv_handle_t*>(timer_.get())) != 0;
}

std::chrono::milliseconds Timer::dueIn() const {
  if (!isActive()) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(uv_timer_get_due_in(timer_.get()));
}

void Timer::onFire(uv_timer_t* timer) {
  auto* self = ownerOf<Timer>(timer);
  if (!self) return;
  // Run a local copy of the callback: it may replace callback_ or destroy the Timer.
  bool destroyed = false;
  self->destroyed_ = &destroyed;
  Callback callback = std::move(self->callback_);
  self->callback_ = nullptr;
  callback();
  if (destroyed) return;
  self->destroyed_ = nullptr;
  if (!self->callback_) self->callback_ = std::move(callback);
}

}  // namespace mesh::core
