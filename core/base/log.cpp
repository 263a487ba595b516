#include "core/base/log.h"

#include <chrono>
#include <ctime>
#include <mutex>

namespace mesh::core {

std::atomic<LogLevel> Log::level_{LogLevel::info};

namespace {
std::FILE* sink = nullptr;  // nullptr means stderr (not a constant initialiser)
std::mutex sinkMutex;       // loops on several threads share one sink
constexpr std::string_view kNames[] = {"trace", "debug", "info", "warn", "error", "off"};
}  // namespace

std::string_view logLevelName(LogLevel level) { return kNames[static_cast<int>(level)]; }

bool parseLogLevel(std::string_view name, LogLevel& out) {
  for (int i = 0; i < 6; ++i) {
    if (kNames[i] == name) {
      out = static_cast<LogLevel>(i);
      return true;
    }
  }
  if (name == "warning") {
    out = LogLevel::warn;
    return true;
  }
  return false;
}

void Log::setSink(std::FILE* file) {
  std::lock_guard lock(sinkMutex);
  sink = file;
}

void Log::write(LogLevel level, std::string_view component, std::string_view message) {
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t secs = system_clock::to_time_t(now);
  auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  std::lock_guard lock(sinkMutex);
  std::FILE* out = sink ? sink : stderr;
  std::fprintf(out, "%s.%03dZ %.*s %.*s: %.*s\n", stamp, static_cast<int>(millis),
               static_cast<int>(logLevelName(level).size()), logLevelName(level).data(),
               static_cast<int>(component.size()), component.data(),
               static_cast<int>(message.size()), message.data());
  std::fflush(out);
}

}  // namespace mesh::core
