// Timer: a uv_timer_t in RAII form. One-shot or repeating; destroying it cancels it.
#pragma once

#include <uv.h>

#include <chrono>
#include <functional>

#include "core/loop/handle.h"
#include "core/loop/loop.h"

namespace mesh::core {

class Timer {
 public:
  using Callback = std::function<void()>;

  explicit Timer(Loop& loop);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Fires once after `timeout` (a start while running replaces the previous one).
  void start(std::chrono::milliseconds timeout, Callback callback);
  // Fires every `interval`, the first time after `interval`.
  void startRepeating(std::chrono::milliseconds interval, Callback callback);
  // Starts again from now with the last timeout or interval and callback (a watchdog's
  // "still alive"). Does nothing if the timer was never started.
  void restart();
  void stop();
  // The timer no longer keeps the loop running (uv_unref): for housekeeping that should not
  // hold a finished loop open.
  void unref();
  bool isActive() const;
  // Time left before the next firing; zero when not active.
  std::chrono::milliseconds dueIn() const;

  // The callback may destroy the Timer or start it again.
 private:
  static void onFire(uv_timer_t* timer);

  Callback callback_;
  std::chrono::milliseconds timeout_{0};
  bool repeating_ = false;
  bool started_ = false;
  bool* destroyed_ = nullptr;  // set while the callback runs, to notice `delete this`
  HandleOwner<uv_timer_t> timer_;
};

}  // namespace mesh::core
