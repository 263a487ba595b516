// HTTP filters: the steps a request goes through once its head is parsed and its route is
// chosen, in order (CORS, fault injection, then the router, which is always last). As in
// Envoy, a filter returns Continue to pass the request on, or Stop when it has answered
// (ActiveRequest::sendLocalReply) or will resume the chain itself later
// (ActiveRequest::continueDecoding, e.g. after an injected delay). Response heads pass the
// filters in reverse order. Filters are created per request and die with it.
//
// Authorization, telemetry and other policy steps are added as filters here.
#pragma once

#include <memory>
#include <vector>

#include "core/http/header_map.h"

namespace mesh::proxy {

class ActiveRequest;

enum class FilterStatus { kContinue, kStop };

class HttpFilter {
 public:
  virtual ~HttpFilter() = default;
  virtual FilterStatus onRequestHeaders(ActiveRequest& request) = 0;
  // Before a response head (forwarded or local) goes to the client.
  virtual void onResponseHeaders(ActiveRequest& /*request*/, int /*status*/,
                                 core::http::HeaderMap& /*headers*/) {}
};

using FilterChain = std::vector<std::unique_ptr<HttpFilter>>;

}  // namespace mesh::proxy
