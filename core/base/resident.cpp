#include "core/base/resident.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace mesh::core {

namespace {

struct Mapping {
  unsigned long start = 0;
  unsigned long end = 0;
  bool candidate = false;  // read-only, of our executable
  std::size_t rssKb = 0;
  // Anonymous: pages copied on write, that differ from the file. (Private_Dirty is no guide:
  // it also counts page-cache pages not yet written back, as in a freshly linked binary.)
  std::size_t modifiedKb = 0;
};

}  // namespace

std::size_t releaseStartupPages() {
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return 0;
  self[n] = '\0';
  std::FILE* f = std::fopen("/proc/self/smaps", "r");
  if (!f) return 0;
  std::vector<Mapping> mappings;
  char line[8192];
  while (std::fgets(line, sizeof line, f)) {
    unsigned long start = 0, end = 0;
    char perms[5] = {};
    char path[4096] = {};
    int fields = std::sscanf(line, "%lx-%lx %4s %*s %*s %*s %4095s", &start, &end, perms, path);
    if (fields >= 3) {  // a mapping's header: "start-end perms offset dev inode [path]"
      Mapping m{start, end, fields == 4 && perms[1] != 'w' && std::strcmp(path, self) == 0};
      mappings.push_back(m);
      continue;
    }
    if (mappings.empty()) continue;
    Mapping& m = mappings.back();
    std::size_t kb = 0;
    if (std::sscanf(line, "Rss: %zu kB", &kb) == 1) m.rssKb = kb;
    if (std::sscanf(line, "Anonymous: %zu kB", &kb) == 1) m.modifiedKb += kb;
  }
  std::fclose(f);

  std::size_t released = 0;
  for (const Mapping& m : mappings) {
    // Pages relocated at startup (RELRO: the GOT, ifunc targets) are read-only now but differ
    // from the file: dropping them would bring back the unrelocated bytes. Only mappings
    // that are wholly clean go.
    if (!m.candidate || m.modifiedKb > 0 || m.rssKb == 0) continue;
    if (::madvise(reinterpret_cast<void*>(m.start), m.end - m.start, MADV_DONTNEED) == 0) {
      released += m.rssKb * 1024;
    }
  }
  return released;
}

}  // namespace mesh::core
