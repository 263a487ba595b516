#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

#include "core/base/clock.h"
#include "core/base/log.h"

using namespace mesh::core;

namespace {
// Captures what the logger writes while it is alive.
struct CapturedLog {
  std::FILE* file = std::tmpfile();
  CapturedLog() { Log::setSink(file); }
  ~CapturedLog() {
    Log::setSink(nullptr);
    std::fclose(file);
  }
  std::string text() {
    std::fflush(file);
    std::rewind(file);
    std::string out;
    char buf[512];
    while (size_t n = std::fread(buf, 1, sizeof buf, file)) out.append(buf, n);
    return out;
  }
};
}  // namespace

TEST_CASE("log lines name level and component, and honour the run-time level", "[base]") {
  CapturedLog log;
  Log::setLevel(LogLevel::info);
  LOG_INFO("ca", "issued ", "spiffe://cluster.local/ns/default/sa/web", " ttl=", 86400);
  LOG_DEBUG("ca", "not shown at info");
  std::string text = log.text();
  CHECK(text.find(" info ca: issued spiffe://cluster.local/ns/default/sa/web ttl=86400\n") !=
        std::string::npos);
  CHECK(text.find("not shown") == std::string::npos);

  Log::setLevel(LogLevel::debug);
  LOG_DEBUG("proxy", "now shown");
  CHECK(log.text().find(" debug proxy: now shown") != std::string::npos);
  Log::setLevel(LogLevel::info);
}

TEST_CASE("log levels parse from their names", "[base]") {
  LogLevel level = LogLevel::info;
  CHECK(parseLogLevel("debug", level));
  CHECK(level == LogLevel::debug);
  CHECK(parseLogLevel("warning", level));
  CHECK(level == LogLevel::warn);
  CHECK_FALSE(parseLogLevel("loud", level));
  CHECK(level == LogLevel::warn);
}

TEST_CASE("a fake clock moves only when told", "[base]") {
  FakeClock clock;
  auto start = clock.now();
  clock.advance(std::chrono::hours(12));
  CHECK(clock.now() - start == std::chrono::hours(12));
  CHECK(clock.monotonic().time_since_epoch() == std::chrono::hours(12));
}
