// FaultFilter: a route's fault block (Istio's fault injection). With delayPercent chance the
// request waits delayMs before going on (flag DI); with abortPercent chance it is answered
// with abortStatus at once (flag FI). The delay holds a timer, which dies with the request
// if the client leaves first.
#pragma once

#include <memory>

#include "core/loop/timer.h"
#include "proxy/http/filter.h"

namespace mesh::proxy {

class FaultFilter final : public HttpFilter {
 public:
  FilterStatus onRequestHeaders(ActiveRequest& request) override;

 private:
  FilterStatus abortMaybe(ActiveRequest& request);
  std::unique_ptr<core::Timer> delay_;
};

}  // namespace mesh::proxy
