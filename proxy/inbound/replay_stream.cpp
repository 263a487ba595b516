#include "proxy/inbound/replay_stream.h"

namespace mesh::proxy {

core::Status ReplayStream::startReading(core::StreamSink& sink) {
  sink_ = &sink;
  reading_ = true;
  // The prefix first, from inside this call (as TlsStream does with what it buffered); the
  // sink may stop reading or destroy us while handling it.
  while (!prefix_.empty() && reading_) {
    std::string prefix = std::move(prefix_);
    prefix_.clear();
    std::shared_ptr<bool> alive = alive_;
    sink.onData({prefix.data(), prefix.size()});
    if (!*alive) return {};
  }
  if (!reading_) return {};
  return inner_->startReading(*this);
}

void ReplayStream::stopReading() {
  reading_ = false;
  inner_->stopReading();
}

}  // namespace mesh::proxy
