// Supervised: one child process that mesh up keeps running. When it dies on its own it is
// started again after a backoff (0.5 s doubling to 30 s, back to 0.5 s once it has run for
// 30 s) and reported then; stop() ends it with SIGTERM and, after a grace period, SIGKILL.
//
// The command line is asked for at each start (a sidecar gets a fresh bootstrap token). The
// Process object is owned here; a Supervised destroyed with its child running kills it
// (core/loop/process.h), so mesh up never leaves one behind.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/base/status.h"
#include "core/loop/loop.h"
#include "core/loop/process.h"
#include "core/loop/timer.h"

namespace mesh::cmd::up {

class Supervised {
 public:
  using MakeOptions = std::function<core::Result<core::ProcessOptions>()>;
  // What happened, in words, for mesh up's output ("exited with status 1; restarting (2)").
  using Report = std::function<void(const std::string& name, const std::string& what)>;

  Supervised(core::Loop& loop, std::string name, MakeOptions make, Report report);
  ~Supervised();
  Supervised(const Supervised&) = delete;
  Supervised& operator=(const Supervised&) = delete;

  // A failure is returned and the start is tried again after the backoff.
  core::Status start();
  // SIGTERM now, SIGKILL after `grace`; `done` runs once the child is gone (at once if none).
  void stop(std::chrono::milliseconds grace, std::function<void()> done);
  // SIGKILL now, no restart.
  void kill();

  const std::string& name() const { return name_; }
  int pid() const { return process_ && process_->running() ? process_->pid() : 0; }
  int restarts() const { return restarts_; }

 private:
  void onExit(core::ExitStatus status);
  void scheduleRestart(const std::string& why);

  core::Loop& loop_;
  std::string name_;
  MakeOptions make_;
  Report report_;
  bool stopping_ = false;
  int restarts_ = 0;
  std::chrono::milliseconds backoff_{500};
  std::chrono::steady_clock::time_point startedAt_;
  std::function<void()> stopped_;
  core::Timer restart_;
  core::Timer kill_;
  std::unique_ptr<core::Process> process_;
};

}  // namespace mesh::cmd::up
