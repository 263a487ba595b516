// Logging with levels settable at run time (the proxy's admin /logging changes them).
// A line names its component: "2026-11-25T20:00:00.123Z info ca: issued spiffe://...".
// Usage: LOG_INFO("ca", "issued ", id, " ttl=", ttl.count(), "s");
// Never pass private key material to a log call.
#pragma once

#include <atomic>
#include <cstdio>
#include <sstream>
#include <string>
#include <string_view>

namespace mesh::core {

enum class LogLevel { trace, debug, info, warn, error, off };

std::string_view logLevelName(LogLevel level);
// Accepts the names above; returns false and leaves `out` alone for anything else.
bool parseLogLevel(std::string_view name, LogLevel& out);

class Log {
 public:
  static LogLevel level() { return level_.load(std::memory_order_relaxed); }
  static void setLevel(LogLevel level) { level_.store(level, std::memory_order_relaxed); }
  static bool enabled(LogLevel level) { return level >= Log::level(); }
  // Where lines go; stderr by default. Tests point it at a file to read what was said.
  static void setSink(std::FILE* sink);
  static void write(LogLevel level, std::string_view component, std::string_view message);

 private:
  static std::atomic<LogLevel> level_;
};

// Concatenates its arguments with operator<<; nothing is formatted when the level is off.
template <typename... Args>
void logAt(LogLevel level, std::string_view component, Args&&... args) {
  if (!Log::enabled(level)) return;
  std::ostringstream line;
  (line << ... << std::forward<Args>(args));
  Log::write(level, component, line.str());
}

#define MESH_LOG(level, component, ...) ::mesh::core::logAt(level, component, __VA_ARGS__)
#define LOG_DEBUG(component, ...) MESH_LOG(::mesh::core::LogLevel::debug, component, __VA_ARGS__)
#define LOG_INFO(component, ...) MESH_LOG(::mesh::core::LogLevel::info, component, __VA_ARGS__)
#define LOG_WARN(component, ...) MESH_LOG(::mesh::core::LogLevel::warn, component, __VA_ARGS__)
#define LOG_ERROR(component, ...) MESH_LOG(::mesh::core::LogLevel::error, component, __VA_ARGS__)

}  // namespace mesh::core
