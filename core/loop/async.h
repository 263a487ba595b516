// Async: wakes a loop from another thread (uv_async_t). send() is the only thread-safe call
// in core/loop; several sends before the loop runs may fold into one callback.
#pragma once

#include <uv.h>

#include <functional>

#include "core/loop/handle.h"
#include "core/loop/loop.h"

namespace mesh::core {

class Async {
 public:
  using Callback = std::function<void()>;

  // `callback` runs on the loop's thread. An Async keeps its loop alive; unref() it for a
  // wake-up channel that should not.
  Async(Loop& loop, Callback callback);
  ~Async();
  Async(const Async&) = delete;
  Async& operator=(const Async&) = delete;

  // Thread-safe. Must not race with the Async's destruction.
  void send();
  void unref() { uv_unref(async_.asHandle()); }

 private:
  static void onSend(uv_async_t* handle);

  Callback callback_;
  bool* destroyed_ = nullptr;
  HandleOwner<uv_async_t> async_;
};

}  // namespace mesh::core
