// Durations as Istio resources write them: Go's syntax ("1.5s", "100ms", "2m", "1h30m",
// "250us"), which is also what protobuf's JSON form ("1.5s") looks like.
#pragma once

#include <chrono>
#include <string_view>

#include "core/base/status.h"

namespace mesh::core::config {

// Parses to milliseconds. Like Istio's validation it refuses negative durations and ones
// that are not a whole number of milliseconds ("1500us" is fine, "1.0001s" is not). A bare
// number is refused except "0", as in Go: "10" could mean seconds or milliseconds.
Result<std::chrono::milliseconds> parseDuration(std::string_view text);

}  // namespace mesh::core::config
