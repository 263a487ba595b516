// Resident memory that startup leaves behind. A long-running process (the sidecar) touches
// much of its static binary's code and read-only data once, to parse flags and config, start
// threads and build its tables, and never again. Those pages are clean copies of the
// executable file, so they can be dropped from the process and come back from the page cache
// on the next touch: RSS then counts the working set instead of everything startup used.
#pragma once

#include <cstddef>

namespace mesh::core {

// Unmaps this process's read-only mappings of its own executable (code and constants; never
// anything writable, nor a mapping with a page that differs from the file, like the GOT after
// relocation) with MADV_DONTNEED. Returns the bytes released from the resident set, 0
// when nothing could be done (no /proc). Safe at any time: a page touched again faults back
// in from the page cache, where the kernel keeps it for every process running the binary.
std::size_t releaseStartupPages();

}  // namespace mesh::core
