// PipeStream: a uv_pipe_t as a Stream: a child process's stdin/stdout (see process.h) or any
// pipe or socketpair end handed over as a file descriptor.
#pragma once

#include "core/loop/uv_stream.h"

namespace mesh::core {

class PipeStream final : public UvStream<uv_pipe_t> {
 public:
  explicit PipeStream(Loop& loop);
  // Adopts `fd` (made non-blocking); the stream closes it.
  Status open(int fd);
};

}  // namespace mesh::core
