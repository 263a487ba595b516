#include "core/loop/loop.h"

#include <string>

#include "core/base/log.h"

namespace mesh::core {

namespace {

// Handles that still belong to someone: not closing, not internal to libuv.
int countOpenHandles(uv_loop_t* loop) {
  int open = 0;
  uv_walk(
      loop,
      [](uv_handle_t* handle, void* arg) {
        if (!uv_is_closing(handle)) ++*static_cast<int*>(arg);
      },
      &open);
  return open;
}

}  // namespace

Loop::Loop() : loop_(new uv_loop_t{}), owned_(true) {
  if (int rc = uv_loop_init(loop_); rc != 0) {
    // Only fails when the process is out of file descriptors or memory: nothing to run on.
    LOG_ERROR("loop", "uv_loop_init: ", uv_strerror(rc));
    std::abort();
  }
  loop_->data = this;
}

Loop::Loop(uv_loop_t* borrowed) : loop_(borrowed), owned_(false) { loop_->data = this; }

Loop::~Loop() {
  // Deleting these may queue more (an object whose destructor defers another): drain fully.
  // Tasks are dropped unrun: what they would report on is going away with the loop.
  for (Task* task : scheduled_) {
    if (task) task->scheduled_ = false;
  }
  scheduled_.clear();
  while (!pending_.empty() || !tasks_.empty()) {
    runDeferred();
    auto tasks = std::move(tasks_);
    tasks_.clear();
  }
  if (idle_) {
    uv_close(reinterpret_cast<uv_handle_t*>(idle_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_idle_t*>(h); });
    idle_ = nullptr;
  }
  if (int open = countOpenHandles(loop_); open > 0) {
    LOG_ERROR("loop", "destroyed with ", open, " open handle(s); leaking the uv loop");
    loop_->data = nullptr;
    return;
  }
  // Only closing handles remain: one turn runs their close callbacks and nothing else.
  uv_run(loop_, UV_RUN_NOWAIT);
  loop_->data = nullptr;
  if (!owned_) return;
  if (int rc = uv_loop_close(loop_); rc != 0) {
    LOG_ERROR("loop", "uv_loop_close: ", uv_strerror(rc), "; leaking the uv loop");
    return;
  }
  delete loop_;
}

bool Loop::run() { return uv_run(loop_, UV_RUN_DEFAULT) != 0; }
bool Loop::runOnce() { return uv_run(loop_, UV_RUN_ONCE) != 0; }
bool Loop::runNoWait() { return uv_run(loop_, UV_RUN_NOWAIT) != 0; }

void Loop::defer(Doomed doomed) {
  pending_.push_back(doomed);
  wake();
}

void Loop::runDeferred() {
  // Objects deferred while this batch is deleted wait for the next turn.
  pendingSpare_.swap(pending_);
  for (const Doomed& d : pendingSpare_) d.destroy(d.object);
  pendingSpare_.clear();
}

void Loop::schedule(Task& task) {
  if (task.scheduled_) return;
  task.scheduled_ = true;
  scheduled_.push_back(&task);
  wake();
}

void Loop::unschedule(Task& task) {
  if (!task.scheduled_) return;
  task.scheduled_ = false;
  for (Task*& t : scheduled_) {
    if (t == &task) t = nullptr;
  }
  for (Task*& t : scheduledSpare_) {  // the batch being run, when called from a task
    if (t == &task) t = nullptr;
  }
}

void Loop::post(std::function<void()> task) {
  tasks_.push_back(std::move(task));
  wake();
}

void Loop::wake() {
  if (idleActive_) return;
  if (!idle_) {
    idle_ = new uv_idle_t{};
    uv_idle_init(loop_, idle_);
    idle_->data = this;
  }
  uv_idle_start(idle_, &Loop::onIdle);
  idleActive_ = true;
}

void Loop::onIdle(uv_idle_t* idle) {
  auto* self = static_cast<Loop*>(idle->data);
  // Tasks first (they may defer deletions); whatever this batch queues waits for the next
  // turn.
  self->scheduledSpare_.swap(self->scheduled_);
  for (size_t i = 0; i < self->scheduledSpare_.size(); ++i) {
    Task* task = self->scheduledSpare_[i];
    if (!task) continue;
    task->scheduled_ = false;
    self->scheduledSpare_[i] = nullptr;
    task->run();
  }
  self->scheduledSpare_.clear();
  if (!self->tasks_.empty()) {
    auto tasks = std::move(self->tasks_);
    self->tasks_.clear();
    for (auto& task : tasks) task();
  }
  self->runDeferred();
  if (!self->pending_.empty() || !self->tasks_.empty() || !self->scheduled_.empty()) return;
  uv_idle_stop(idle);
  self->idleActive_ = false;
}

}  // namespace mesh::core
