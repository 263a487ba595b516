#include "proxy/telemetry/access_log.h"

#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "proxy/http/response_flags.h"

namespace mesh::proxy::telemetry {
namespace {

std::string_view orDash(std::string_view v) { return v.empty() ? std::string_view("-") : v; }

void field(std::string& out, std::string_view v) { out.append(orDash(v)); }
void quoted(std::string& out, std::string_view v) {
  out += '"';
  out.append(orDash(v));
  out += '"';
}

nlohmann::ordered_json orNull(std::string_view v) {
  return v.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(std::string(v));
}

std::string text(const AccessLogEntry& e) {
  std::string out;
  out.reserve(384);
  out += '[';
  out += formatStartTime(e.start);
  out += "] \"";
  field(out, e.method);
  out += ' ';
  field(out, e.path);
  out += ' ';
  field(out, e.protocol);
  out += "\" ";
  out += std::to_string(e.status);
  out += ' ';
  out += responseFlagsString(e.flags);
  out += ' ';
  field(out, e.details);
  out += " - ";  // CONNECTION_TERMINATION_DETAILS
  quoted(out, e.upstreamFailure);
  out += ' ';
  out += std::to_string(e.bytesReceived);
  out += ' ';
  out += std::to_string(e.bytesSent);
  out += ' ';
  out += std::to_string(e.durationMs);
  out += ' ';
  out += e.upstreamServiceTimeMs ? std::to_string(*e.upstreamServiceTimeMs) : "-";
  out += ' ';
  quoted(out, e.forwardedFor);
  out += ' ';
  quoted(out, e.userAgent);
  out += ' ';
  quoted(out, e.requestId);
  out += ' ';
  quoted(out, e.authority);
  out += ' ';
  quoted(out, e.upstreamHost);
  for (std::string_view v : {e.upstreamCluster, e.upstreamLocalAddress, e.downstreamLocalAddress,
                             e.downstreamRemoteAddress, e.requestedServerName, e.routeName}) {
    out += ' ';
    field(out, v);
  }
  out += '\n';
  return out;
}

std::string json(const AccessLogEntry& e) {
  nlohmann::ordered_json j;
  j["start_time"] = formatStartTime(e.start);
  j["method"] = orNull(e.method);
  j["path"] = orNull(e.path);
  j["protocol"] = orNull(e.protocol);
  j["response_code"] = e.status;
  j["response_flags"] = responseFlagsString(e.flags);
  j["response_code_details"] = orNull(e.details);
  j["connection_termination_details"] = nullptr;
  j["upstream_transport_failure_reason"] = orNull(e.upstreamFailure);
  j["bytes_received"] = e.bytesReceived;
  j["bytes_sent"] = e.bytesSent;
  j["duration"] = e.durationMs;
  j["upstream_service_time"] = e.upstreamServiceTimeMs
                                   ? nlohmann::ordered_json(std::to_string(*e.upstreamServiceTimeMs))
                                   : nlohmann::ordered_json();
  j["x_forwarded_for"] = orNull(e.forwardedFor);
  j["user_agent"] = orNull(e.userAgent);
  j["request_id"] = orNull(e.requestId);
  j["authority"] = orNull(e.authority);
  j["upstream_host"] = orNull(e.upstreamHost);
  j["upstream_cluster"] = orNull(e.upstreamCluster);
  j["upstream_local_address"] = orNull(e.upstreamLocalAddress);
  j["downstream_local_address"] = orNull(e.downstreamLocalAddress);
  j["downstream_remote_address"] = orNull(e.downstreamRemoteAddress);
  j["requested_server_name"] = orNull(e.requestedServerName);
  j["route_name"] = orNull(e.routeName);
  // Bytes that are not UTF-8 (a raw header value) are replaced rather than failing the line.
  std::string out = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  out += '\n';
  return out;
}

}  // namespace

std::string_view responseCodeDetails(int status, uint32_t flags, bool upstreamAnswered) {
  if (flags & kNoRoute) return "route_not_found";
  if (flags & kUpstreamOverflow) return "upstream_reset_before_response_started{overflow}";
  if (flags & kUpstreamConnectFailure) {
    return "upstream_reset_before_response_started{connection_failure}";
  }
  if (flags & kNoHealthyUpstream) return "no_healthy_upstream";
  if (flags & kUpstreamRequestTimeout) return "upstream_response_timeout";
  if (flags & kFaultInjected) return "fault_filter_abort";
  if (flags & kDownstreamProtocolError) return "codec_error";
  if (flags & kUpstreamProtocolError) {
    return upstreamAnswered ? "upstream_reset_after_response_started{protocol_error}"
                            : "upstream_reset_before_response_started{protocol_error}";
  }
  if (flags & kUpstreamConnectionTermination) {
    return upstreamAnswered ? "upstream_reset_after_response_started{connection_termination}"
                            : "upstream_reset_before_response_started{connection_termination}";
  }
  if (status == 0) return "downstream_remote_disconnect";
  return upstreamAnswered ? "via_upstream" : "direct_response";
}

std::string formatAccessLog(const AccessLogEntry& entry, AccessLogFormat format) {
  return format == AccessLogFormat::json ? json(entry) : text(entry);
}

std::string formatStartTime(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace mesh::proxy::telemetry
