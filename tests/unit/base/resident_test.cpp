#include "core/base/resident.h"

#include <catch2/catch.hpp>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace {

// This process's resident kB in mappings of its executable, from /proc/self/smaps.
long executableResidentKb() {
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return -1;
  self[n] = '\0';
  std::FILE* f = std::fopen("/proc/self/smaps", "r");
  if (!f) return -1;
  long kb = 0;
  bool ours = false;
  char line[8192];
  while (std::fgets(line, sizeof line, f)) {
    unsigned long a, b;
    char path[4096] = {};
    if (std::sscanf(line, "%lx-%lx %*s %*s %*s %*s %4095s", &a, &b, path) >= 2) {
      ours = std::strcmp(path, self) == 0;
      continue;
    }
    long value = 0;
    if (ours && std::sscanf(line, "Rss: %ld kB", &value) == 1) kb += value;
  }
  std::fclose(f);
  return kb;
}

int work(int x) { return x * 3 + 1; }

}  // namespace

TEST_CASE("releaseStartupPages drops the executable's clean pages and the code still runs") {
  long before = executableResidentKb();
  if (before <= 0) {
    WARN("no /proc/self/smaps: nothing to check");
    return;
  }
  std::size_t released = mesh::core::releaseStartupPages();
  CHECK(released > 0);
  long after = executableResidentKb();
  CHECK(after < before);
  // Code and constants come back from the page cache on the next touch.
  CHECK(work(2) == 7);
  CHECK(std::string("still here") == "still here");
  CHECK(executableResidentKb() > 0);
}
