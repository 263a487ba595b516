#include "cmd/up/supervised.h"

#include <cstring>

namespace mesh::cmd::up {

namespace {
constexpr std::chrono::milliseconds kFirstBackoff{500};
constexpr std::chrono::milliseconds kMaxBackoff{30'000};
constexpr std::chrono::seconds kHealthyRun{30};

std::string describe(const core::ExitStatus& status) {
  if (status.signal) return std::string("was killed by ") + ::strsignal(status.signal);
  return "exited with status " + std::to_string(status.code);
}
}  // namespace

Supervised::Supervised(core::Loop& loop, std::string name, MakeOptions make, Report report)
    : loop_(loop),
      name_(std::move(name)),
      make_(std::move(make)),
      report_(std::move(report)),
      restart_(loop),
      kill_(loop) {}

Supervised::~Supervised() = default;  // process_ kills a child still running

core::Status Supervised::start() {
  stopping_ = false;
  auto options = make_();
  core::Status s = options.ok() ? core::Status() : options.status();
  if (s.ok()) {
    // The old Process (exited) goes on the next turn: this may run from its exit callback.
    if (process_) core::deferredDelete(loop_, std::move(process_));
    process_ = std::make_unique<core::Process>(loop_);
    startedAt_ = std::chrono::steady_clock::now();
    s = process_->spawn(*options, [this](core::ExitStatus status) { onExit(status); });
  }
  // A program that cannot be run now (missing, not executable) may be fixed later: keep trying.
  if (!s.ok()) scheduleRestart("cannot start: " + s.message());
  return s;
}

void Supervised::onExit(core::ExitStatus status) {
  if (stopping_) {
    kill_.stop();
    if (auto done = std::move(stopped_)) done();
    return;
  }
  if (std::chrono::steady_clock::now() - startedAt_ >= kHealthyRun) backoff_ = kFirstBackoff;
  // Reported when the backoff is over, not now: a Ctrl-C in a terminal reaches the children
  // too (one process group), and their exit may be seen just before mesh up's own signal,
  // which then calls stop() and cancels both the report and the restart.
  scheduleRestart(describe(status));
}

void Supervised::scheduleRestart(const std::string& why) {
  restart_.start(backoff_, [this, why] {
    ++restarts_;
    report_(name_, why + "; restarting (" + std::to_string(restarts_) + ")");
    (void)start();
  });
  backoff_ = std::min(backoff_ * 2, kMaxBackoff);
}

void Supervised::stop(std::chrono::milliseconds grace, std::function<void()> done) {
  stopping_ = true;
  restart_.stop();
  if (!process_ || !process_->running()) {
    if (done) done();
    return;
  }
  stopped_ = std::move(done);
  (void)process_->kill(SIGTERM);
  kill_.start(grace, [this] {
    if (process_ && process_->running()) (void)process_->kill(SIGKILL);
  });
}

void Supervised::kill() {
  stopping_ = true;
  restart_.stop();
  if (process_ && process_->running()) (void)process_->kill(SIGKILL);
}

}  // namespace mesh::cmd::up
