// SpanQueue: finished spans on their way from the workers to the Zipkin exporter. Workers
// push (a short mutex, never a wait on the network); the exporter takes everything queued
// on its timer. Bounded: when the collector is slow or down the queue fills and further spans
// are dropped and counted, so tracing never holds memory or time that requests need.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include "core/metrics/registry.h"

namespace mesh::proxy::telemetry {

class SpanQueue {
 public:
  SpanQueue(core::metrics::Registry& registry, size_t capacity);

  // One span, as a Zipkin v2 JSON object. Any thread.
  void push(std::string span);
  // Everything queued, oldest first.
  std::vector<std::string> takeAll();

  core::metrics::Counter& sent;
  core::metrics::Counter& droppedQueueFull;
  core::metrics::Counter& droppedSendFailed;

 private:
  size_t capacity_;
  std::mutex mutex_;
  std::vector<std::string> spans_;  // guarded by mutex_
};

}  // namespace mesh::proxy::telemetry
