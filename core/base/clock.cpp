#include "core/base/clock.h"

namespace mesh::core {

namespace {
class RealClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
  std::chrono::steady_clock::time_point monotonic() const override {
    return std::chrono::steady_clock::now();
  }
};
}  // namespace

Clock& Clock::real() {
  static RealClock clock;
  return clock;
}

}  // namespace mesh::core
