// Time as the rest of mesh sees it. Retry, timeout and certificate-rotation logic takes a
// Clock& so tests can drive it with FakeClock instead of sleeping.
#pragma once

#include <chrono>

namespace mesh::core {

class Clock {
 public:
  using Duration = std::chrono::milliseconds;
  using TimePoint = std::chrono::system_clock::time_point;

  virtual ~Clock() = default;
  // Wall-clock time: certificate validity is expressed in it.
  virtual TimePoint now() const = 0;
  // Monotonic time for measuring intervals.
  virtual std::chrono::steady_clock::time_point monotonic() const = 0;

  static Clock& real();
};

class FakeClock : public Clock {
 public:
  explicit FakeClock(TimePoint start = TimePoint{std::chrono::seconds(1'800'000'000)})
      : wall_(start) {}
  TimePoint now() const override { return wall_; }
  std::chrono::steady_clock::time_point monotonic() const override { return mono_; }
  void advance(Duration by) {
    wall_ += by;
    mono_ += by;
  }

 private:
  TimePoint wall_;
  std::chrono::steady_clock::time_point mono_{};
};

}  // namespace mesh::core
