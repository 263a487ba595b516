// Trace context propagation: what a sidecar reads from a request's W3C `traceparent` or B3
// (`x-b3-traceid`, `x-b3-spanid`, `x-b3-parentspanid`, `x-b3-sampled`) headers, and what it
// writes for the next hop. Each sidecar that sees a request makes one span of its own: its
// parent is the span the request came with, and the next hop gets this span's id as its
// parent. A request without context starts a trace; the sampling decision travels with it
// (a caller's decision is kept; without one, --trace-sampling decides).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "core/http/header_map.h"

namespace mesh::proxy::telemetry {

struct TraceContext {
  uint64_t traceHigh = 0;  // 0 with a 64-bit trace id
  uint64_t traceLow = 0;
  uint64_t spanId = 0;     // this proxy's span
  uint64_t parentId = 0;   // the caller's span; 0 at the root
  bool sampled = false;
  bool wide = true;        // a 128-bit trace id (written as 32 hex digits)

  std::string traceIdHex() const;
  static std::string hex16(uint64_t v);
};

// Where the headers injectTraceContext writes were in the request, so that it overwrites or
// appends them without searching: for traceparent, x-b3-traceid, x-b3-spanid,
// x-b3-parentspanid, x-b3-sampled and x-b3-flags, the index of its only line, or kAbsent.
// When one of them is repeated, none is known (kUnknown) and each is searched for.
struct TraceHeaderLines {
  static constexpr int16_t kAbsent = -1;
  static constexpr int16_t kUnknown = -2;
  std::array<int16_t, 6> at;

  static TraceHeaderLines unknown() { return TraceHeaderLines(kUnknown); }
  static TraceHeaderLines absent() { return TraceHeaderLines(kAbsent); }
  bool has(size_t header) const { return at[header] != kAbsent; }

 private:
  explicit TraceHeaderLines(int16_t all) { at.fill(all); }
};

// What the request carries: traceparent first, else B3. `sampled` is unset when the caller
// left the decision to us (a lone `x-b3-sampled` still decides for a new trace).
struct IncomingContext {
  uint64_t traceHigh = 0, traceLow = 0, spanId = 0;
  bool wide = true;
  bool valid = false;  // false: no usable context, only perhaps a sampling decision
  std::optional<bool> sampled;
  TraceHeaderLines lines = TraceHeaderLines::absent();
};
// One pass over the headers.
IncomingContext extractTraceContext(const core::http::HeaderMap& headers);

// This proxy's span for a request: continues `incoming` or starts a trace.
TraceContext startSpan(const IncomingContext& incoming, double samplingPercent,
                       std::mt19937_64& rng);

// Sets traceparent and the B3 headers for the next hop (replacing what was there). `lines`
// comes from extractTraceContext on the same map, unchanged since.
void injectTraceContext(core::http::HeaderMap& headers, const TraceContext& context,
                        const TraceHeaderLines& lines = TraceHeaderLines::unknown());

}  // namespace mesh::proxy::telemetry
