// Signal: a uv_signal_t in RAII form, to handle SIGINT/SIGTERM (graceful stop) or SIGHUP on
// the loop thread instead of in an async-signal handler.
#pragma once

#include <uv.h>

#include <functional>

#include "core/base/status.h"
#include "core/loop/handle.h"
#include "core/loop/loop.h"

namespace mesh::core {

class Signal {
 public:
  using Callback = std::function<void(int signum)>;

  explicit Signal(Loop& loop);
  ~Signal();
  Signal(const Signal&) = delete;
  Signal& operator=(const Signal&) = delete;

  // Calls `callback` on the loop each time `signum` arrives, until stop() or destruction.
  // With `once`, the handler is reset after the first delivery, so a second Ctrl-C kills.
  Status start(int signum, Callback callback, bool once = false);
  void stop();
  bool isActive() const;

 private:
  static void onSignal(uv_signal_t* handle, int signum);

  Callback callback_;
  bool* destroyed_ = nullptr;
  HandleOwner<uv_signal_t> signal_;
};

}  // namespace mesh::core
