#include "core/loop/leak_check.h"

#include <thread>

namespace mesh::core {

namespace {

// An unreferenced timer that stops the loop at a deadline without keeping it alive itself.
class Guard {
 public:
  Guard(Loop& loop, std::chrono::milliseconds timeout) : timer_(new uv_timer_t{}) {
    uv_timer_init(loop.raw(), timer_);
    uv_timer_start(
        timer_, [](uv_timer_t* t) { uv_stop(t->loop); },
        static_cast<std::uint64_t>(timeout.count()), 0);
    uv_unref(reinterpret_cast<uv_handle_t*>(timer_));
  }
  ~Guard() {
    uv_close(reinterpret_cast<uv_handle_t*>(timer_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  }
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;

 private:
  uv_timer_t* timer_;
};

}  // namespace

void runTurn(Loop& loop, std::chrono::milliseconds budget) {
  if (!uv_loop_alive(loop.raw())) {
    // Nothing that could make progress: do not spin; work may come from another thread.
    std::this_thread::sleep_for(std::min(budget, std::chrono::milliseconds(1)));
    return;
  }
  Guard guard(loop, budget);
  uv_run(loop.raw(), UV_RUN_ONCE);
}

std::vector<std::string> liveHandles(Loop& loop, std::chrono::milliseconds timeout) {
  {
    Guard guard(loop, timeout);
    uv_run(loop.raw(), UV_RUN_DEFAULT);
  }
  uv_run(loop.raw(), UV_RUN_NOWAIT);  // the guard's close callback, and any other closes
  std::vector<std::string> live;
  struct Walk {
    Loop& loop;
    std::vector<std::string>& live;
  } walk{loop, live};
  uv_walk(
      loop.raw(),
      [](uv_handle_t* handle, void* arg) {
        auto* w = static_cast<Walk*>(arg);
        if (uv_is_closing(handle) || w->loop.isOwnHandle(handle)) return;
        w->live.emplace_back(uv_handle_type_name(uv_handle_get_type(handle)));
      },
      &walk);
  return live;
}

}  // namespace mesh::core
