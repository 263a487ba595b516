// OutlierDetector: Istio's outlierDetection for one cluster. A host that returns
// consecutive5xxErrors 5xx answers in a row (or consecutiveGatewayErrors 502/503/504,
// connect failures, resets and timeouts in a row) is ejected at once for baseEjectionTime
// times the number of times it has been ejected, unless more than maxEjectionPercent of the
// hosts are already out (one host may always be ejected, as in Envoy). An ejection ends by
// itself when its time has passed; no timer is needed. State lives in the shared Host
// atomics, so every worker thread sees the same ejections.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/base/clock.h"
#include "core/model/cluster.h"
#include "proxy/upstream/host.h"

namespace mesh::proxy {

class OutlierDetector {
 public:
  enum class Result {
    success,       // any non-5xx answer
    error5xx,      // a 5xx other than 502/503/504
    gatewayError,  // 502, 503, 504 from the upstream
    localFailure,  // connect failure, reset, timeout: a gateway error too
  };

  // `hosts` are the cluster's, owned by its ClusterInfo, which owns the detector too.
  OutlierDetector(const core::model::OutlierDetection& config, core::Clock& clock,
                  const std::vector<std::unique_ptr<Host>>& hosts);

  void report(Host& host, Result result);
  bool isEjected(const Host& host) const;
  size_t ejectedCount() const;

 private:
  int64_t nowMs() const;
  void maybeEject(Host& host);

  const core::model::OutlierDetection config_;
  core::Clock& clock_;
  const std::vector<std::unique_ptr<Host>>& hosts_;
};

}  // namespace mesh::proxy
