// How this proxy traces: the share of new traces it samples and where finished spans go.
#pragma once

#include <memory>

#include "proxy/telemetry/span_queue.h"

namespace mesh::proxy::telemetry {

struct TracingOptions {
  double samplingPercent = 1.0;  // Istio's default: 1% of the traces this proxy starts
  std::shared_ptr<SpanQueue> spans;  // null: spans are not exported (headers still are)
};

}  // namespace mesh::proxy::telemetry
