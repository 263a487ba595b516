// Loop: one libuv event loop, owned (a fresh uv_loop_t) or wrapped (uv_default_loop() or a
// loop someone else owns). Every RAII object in core/loop takes a Loop& and must be destroyed
// before the Loop. The Loop also holds the queue behind deferredDelete() and post().
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace mesh::core {

class Loop {
 public:
  // Owns a new uv_loop_t; the destructor closes it.
  Loop();
  // Wraps a loop owned elsewhere; the destructor leaves it open. Sets loop->data to this.
  explicit Loop(uv_loop_t* borrowed);
  // Deletes what deferredDelete() still holds, lets closing handles finish, and closes an
  // owned loop. Destroying a Loop while an object still owns a handle on it is a bug; it is
  // logged and the uv_loop_t is leaked rather than freed under that object.
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  uv_loop_t* raw() const { return loop_; }
  // The Loop that wraps `loop`, found through loop->data.
  static Loop& from(uv_loop_t* loop) { return *static_cast<Loop*>(loop->data); }

  // uv_run with UV_RUN_DEFAULT / UV_RUN_ONCE / UV_RUN_NOWAIT; true while work remains.
  bool run();
  bool runOnce();
  bool runNoWait();
  void stop() { uv_stop(loop_); }
  // The loop's cached time in milliseconds (uv_now) and a refresh of it.
  std::uint64_t now() const { return uv_now(loop_); }
  void updateTime() { uv_update_time(loop_); }

  // Runs `task` on the next loop turn, before the loop polls again (with deferred deletes).
  // For completions that happened inside a call but must be reported after it returns.
  void post(std::function<void()> task);

  // The allocation-free form of post() for objects that report often (a stream's write
  // completions): schedule() queues `task` once for the next turn, unschedule() takes it
  // back, and must be called before `task` is destroyed.
  class Task {
   public:
    virtual void run() = 0;

   protected:
    ~Task() = default;

   private:
    friend class Loop;
    bool scheduled_ = false;
  };
  void schedule(Task& task);
  void unschedule(Task& task);
  // True for the handle the Loop keeps for itself (the leak check does not list it).
  bool isOwnHandle(const uv_handle_t* handle) const {
    return handle == reinterpret_cast<const uv_handle_t*>(idle_);
  }

 private:
  template <typename T>
  friend void deferredDelete(Loop& loop, std::unique_ptr<T> object);
  struct Doomed {
    void* object;
    void (*destroy)(void*);
  };
  void defer(Doomed doomed);
  void runDeferred();
  void wake();
  static void onIdle(uv_idle_t* idle);

  uv_loop_t* loop_;
  bool owned_;
  // Objects and tasks waiting for the next loop turn, and the idle handle that wakes the loop
  // for them. The handle is made once and only started while something waits: a stopped
  // handle does not keep the loop running, and reusing it spares a close (and the extra
  // non-blocking poll a closing handle causes) on every turn that deletes something.
  std::vector<Doomed> pending_;
  std::vector<std::function<void()>> tasks_;
  std::vector<Task*> scheduled_;  // null where a task was taken back
  // Spares that keep the queues' capacity from turn to turn.
  std::vector<Doomed> pendingSpare_;
  std::vector<Task*> scheduledSpare_;
  uv_idle_t* idle_ = nullptr;
  bool idleActive_ = false;
};

// Deletes `object` on the next loop turn: for objects that must die from inside their own
// callback (a connection that sees its peer close). A null pointer is ignored.
template <typename T>
void deferredDelete(Loop& loop, std::unique_ptr<T> object) {
  if (object) {
    loop.defer(Loop::Doomed{object.release(), [](void* p) { delete static_cast<T*>(p); }});
  }
}

}  // namespace mesh::core
