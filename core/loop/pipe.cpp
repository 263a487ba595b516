#include "core/loop/pipe.h"

namespace mesh::core {

PipeStream::PipeStream(Loop& loop) : UvStream(loop) {
  uv_pipe_init(loop.raw(), handle_.get(), 0);  // cannot fail
}

Status PipeStream::open(int fd) {
  if (!handle_) return error(Code::unavailable, "pipe open: stream is closed");
  return uvStatus(uv_pipe_open(handle_.get(), fd), "pipe open");
}

}  // namespace mesh::core
