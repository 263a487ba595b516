#include "proxy/http/filters/cors_filter.h"

#include "proxy/http/active_request.h"
#include "proxy/router/string_matcher.h"

namespace mesh::proxy {

namespace {
std::string joinList(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ",";
    out += item;
  }
  return out;
}
}  // namespace

FilterStatus CorsFilter::onRequestHeaders(ActiveRequest& request) {
  const auto& cors = *request.route().route->config->cors;
  auto origin = request.request().headers.get("origin");
  if (!origin) return FilterStatus::kContinue;
  for (const auto& match : cors.allowOrigins) {
    auto matcher = StringMatcher::compile(match);
    if (matcher.ok() && matcher->matches(*origin)) {
      allowed_ = true;
      break;
    }
  }
  if (!allowed_) return FilterStatus::kContinue;
  origin_ = std::string(*origin);
  const auto& state = request.request();
  if (state.method != core::http::Method::options ||
      !state.headers.has("access-control-request-method")) {
    return FilterStatus::kContinue;
  }
  core::http::HeaderMap headers;
  headers.set("access-control-allow-origin", origin_);
  if (!cors.allowMethods.empty()) headers.set("access-control-allow-methods", joinList(cors.allowMethods));
  if (!cors.allowHeaders.empty()) headers.set("access-control-allow-headers", joinList(cors.allowHeaders));
  if (cors.maxAgeSeconds) headers.set("access-control-max-age", std::to_string(cors.maxAgeSeconds));
  if (cors.allowCredentials) headers.set("access-control-allow-credentials", "true");
  allowed_ = false;  // the lines are in already
  request.sendLocalReply(200, "", 0, &headers);
  return FilterStatus::kStop;
}

void CorsFilter::onResponseHeaders(ActiveRequest& request, int, core::http::HeaderMap& headers) {
  if (!allowed_) return;
  const auto& cors = *request.route().route->config->cors;
  headers.set("access-control-allow-origin", origin_);
  if (!cors.exposeHeaders.empty()) headers.set("access-control-expose-headers", joinList(cors.exposeHeaders));
  if (cors.allowCredentials) headers.set("access-control-allow-credentials", "true");
}

}  // namespace mesh::proxy
