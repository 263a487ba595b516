// ZipkinExporter: sends the queued spans to a Zipkin collector (POST /api/v2/spans, a JSON
// array of v2 spans) in batches, on the main thread's loop. One POST at a time: while one is
// in flight the next batch waits in the queue (which drops what does not fit). A POST has a
// deadline; a collector that refuses, resets, stalls or answers an error loses that batch
// (counted), and the requests whose spans they were never notice.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/loop/address.h"
#include "core/loop/loop.h"
#include "core/loop/tcp.h"
#include "core/loop/timer.h"
#include "proxy/telemetry/span_queue.h"

namespace mesh::proxy::telemetry {

// "10.0.0.7:9411", "[::1]:9411" or "zipkin.istio-system:9411". A name is resolved once, at
// start-up (c-ares, core/loop/resolver.h), to its first address.
core::Result<core::SocketAddress> resolveCollector(const std::string& hostPort);

class ZipkinExporter {
 public:
  ZipkinExporter(core::Loop& loop, core::SocketAddress collector, std::shared_ptr<SpanQueue> queue,
                 std::chrono::milliseconds interval = std::chrono::milliseconds(200),
                 std::chrono::milliseconds deadline = std::chrono::seconds(2));
  ~ZipkinExporter();
  ZipkinExporter(const ZipkinExporter&) = delete;
  ZipkinExporter& operator=(const ZipkinExporter&) = delete;

  void start();
  // Closes the timer and any POST in flight; spans still queued are not sent.
  void stop();

 private:
  class Post;
  void flush();
  void onPostDone(bool ok, size_t spans);

  core::Loop& loop_;
  core::SocketAddress collector_;
  std::shared_ptr<SpanQueue> queue_;
  std::chrono::milliseconds interval_;
  std::chrono::milliseconds deadline_;
  std::unique_ptr<core::Timer> timer_;
  std::unique_ptr<Post> post_;  // the POST in flight, if any
};

}  // namespace mesh::proxy::telemetry
