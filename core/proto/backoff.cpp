#include "core/proto/backoff.h"

#include <algorithm>

namespace mesh::core {

Backoff::Duration Backoff::ceiling() const {
  // Doubling stops once past max; the shift is bounded so it cannot overflow.
  auto ceiling = initial_ * (std::int64_t{1} << std::min(failures_, 30));
  return std::min(ceiling, max_);
}

Backoff::Duration Backoff::next() {
  Duration bound = ceiling();
  ++failures_;
  std::uniform_int_distribution<std::int64_t> pick(0, bound.count());
  return Duration(pick(random_));
}

}  // namespace mesh::core
