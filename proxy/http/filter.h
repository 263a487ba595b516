// HTTP filters: the steps a request goes through once its head is parsed and its route is
// chosen, in order (CORS, fault injection, then the router, which is always last). As in
// Envoy, a filter returns Continue to pass the request on, or Stop when it has answered
// (ActiveRequest::sendLocalReply) or will resume the chain itself later
// (ActiveRequest::continueDecoding, e.g. after an injected delay). Response heads pass the
// filters in reverse order. Filters are created per request and die with it.
//
// Authorization, telemetry and other policy steps are added as filters here.
#pragma once

#include <array>
#include <cstddef>
#include <cstdlib>
#include <memory>

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

// A request's filters in their order. There are at most four (authorization, CORS, fault
// injection, the router), held in place rather than in a vector allocated per request.
class FilterChain {
 public:
  static constexpr size_t kMaxFilters = 4;
  void push_back(std::unique_ptr<HttpFilter> filter) {
    if (size_ == kMaxFilters) std::abort();  // a fifth kind of filter needs a larger chain
    filters_[size_++] = std::move(filter);
  }
  size_t size() const { return size_; }
  const std::unique_ptr<HttpFilter>& operator[](size_t i) const { return filters_[i]; }
  // Destroys the filters, first to last.
  void clear() {
    for (size_t i = 0; i < size_; ++i) filters_[i].reset();
    size_ = 0;
  }

 private:
  std::array<std::unique_ptr<HttpFilter>, kMaxFilters> filters_;
  size_t size_ = 0;
};

}  // namespace mesh::proxy
