// The buffers every request needs, recycled on the thread that serves it (core/base/
// recycle_bin.h says why): header maps for the request's own copy of its head, and strings
// for the bytes it gathers before a write. 256 of each covers the requests a busy worker has
// in flight; the size limits keep a few large messages from pinning memory.
#pragma once

#include <string>

#include "core/base/recycle_bin.h"
#include "core/http/header_map.h"

namespace mesh::proxy {

using SpareHeaderMaps = core::RecycleBin<core::http::HeaderMap, 256, 8 * 1024>;
using SpareStrings = core::RecycleBin<std::string, 256, 16 * 1024>;

SpareHeaderMaps& spareHeaderMaps();
SpareStrings& spareStrings();
// Gives back everything this thread keeps for requests: the spares above and the cached
// blocks of ActiveRequest and RouterFilter. Its heap trimmer calls it (core/loop/heap_trimmer.h).
void releaseSpareBuffers();

}  // namespace mesh::proxy
