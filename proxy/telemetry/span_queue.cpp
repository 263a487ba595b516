#include "proxy/telemetry/span_queue.h"

namespace mesh::proxy::telemetry {
namespace {
core::metrics::Family<core::metrics::Counter>& spansFamily(core::metrics::Registry& r) {
  return r.counter("mesh_proxy_tracing_spans_total",
                   "Spans for the Zipkin collector, by what became of them", {"result"});
}
}  // namespace

SpanQueue::SpanQueue(core::metrics::Registry& registry, size_t capacity)
    : sent(spansFamily(registry).series({"sent"})),
      droppedQueueFull(spansFamily(registry).series({"dropped_queue_full"})),
      droppedSendFailed(spansFamily(registry).series({"dropped_send_failed"})),
      capacity_(capacity) {}

void SpanQueue::push(std::string span) {
  {
    std::lock_guard lock(mutex_);
    if (spans_.size() < capacity_) {
      spans_.push_back(std::move(span));
      return;
    }
  }
  droppedQueueFull.inc();
}

std::vector<std::string> SpanQueue::takeAll() {
  std::vector<std::string> out;
  std::lock_guard lock(mutex_);
  out.swap(spans_);
  return out;
}

}  // namespace mesh::proxy::telemetry
