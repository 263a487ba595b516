#include "pilot/analysis/annotation_table.h"

#include <arpa/inet.h>

#include <regex>

namespace mesh::pilot::analysis {

namespace {

std::vector<std::string_view> splitComma(std::string_view s) {
  std::vector<std::string_view> out;
  while (true) {
    auto comma = s.find(',');
    std::string_view part = s.substr(0, comma);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    out.push_back(part);
    if (comma == std::string_view::npos) return out;
    s.remove_prefix(comma + 1);
  }
}

bool allDigits(std::string_view s) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string anyValue(std::string_view) { return ""; }

std::string boolean(std::string_view v) {
  return (v == "true" || v == "false") ? "" : "must be \"true\" or \"false\"";
}

std::string unsignedInt(std::string_view v) {
  return allDigits(v) ? "" : "must be a non-negative integer";
}

std::string portList(std::string_view v) {
  if (v == "*" || v.empty()) return "";
  for (std::string_view p : splitComma(v)) {
    if (!allDigits(p) || std::stol(std::string(p)) < 1 || std::stol(std::string(p)) > 65535) {
      return "\"" + std::string(p) + "\" is not a port number";
    }
  }
  return "";
}

std::string cidrList(std::string_view v) {
  if (v == "*" || v.empty()) return "";
  for (std::string_view c : splitComma(v)) {
    const std::string text(c);
    auto slash = text.find('/');
    const std::string ip = text.substr(0, slash);
    unsigned char buf[16];
    const bool v4 = inet_pton(AF_INET, ip.c_str(), buf) == 1;
    const bool v6 = !v4 && inet_pton(AF_INET6, ip.c_str(), buf) == 1;
    bool ok = v4 || v6;
    if (ok && slash != std::string::npos) {
      const std::string bits = text.substr(slash + 1);
      ok = allDigits(bits) && std::stoi(bits) <= (v4 ? 32 : 128);
    }
    if (!ok) return "\"" + text + "\" is not an IP range in CIDR notation";
  }
  return "";
}

std::string quantity(std::string_view v) {
  static const std::regex re(
      R"(^[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+|[KMGTPE]i|[numkMGTPE])?$)");
  return std::regex_match(std::string(v), re) ? "" : "is not a Kubernetes resource quantity";
}

std::string interceptionMode(std::string_view v) {
  return (v == "REDIRECT" || v == "TPROXY" || v == "NONE")
             ? ""
             : "must be one of REDIRECT, TPROXY, NONE";
}

std::string logLevel(std::string_view v) {
  for (const char* l : {"trace", "debug", "info", "warning", "error", "critical", "off"}) {
    if (v == l) return "";
  }
  return "must be one of trace, debug, info, warning, error, critical, off";
}

constexpr AnnotationPhase kStable = AnnotationPhase::stable;
constexpr AnnotationPhase kAlpha = AnnotationPhase::alpha;
constexpr AnnotationPhase kDeprecated = AnnotationPhase::deprecated;

const std::vector<AnnotationInfo>& table() {
  static const std::vector<AnnotationInfo> t = {
      {"sidecar.istio.io/inject", {"Pod"}, kStable, "", boolean},
      {"sidecar.istio.io/status", {"Pod"}, kStable, "", anyValue},
      {"sidecar.istio.io/proxyCPU", {"Pod"}, kStable, "", quantity},
      {"sidecar.istio.io/proxyCPULimit", {"Pod"}, kStable, "", quantity},
      {"sidecar.istio.io/proxyMemory", {"Pod"}, kStable, "", quantity},
      {"sidecar.istio.io/proxyMemoryLimit", {"Pod"}, kStable, "", quantity},
      {"sidecar.istio.io/proxyImage", {"Pod"}, kStable, "", anyValue},
      {"sidecar.istio.io/proxyImageType", {"Pod"}, kStable, "", anyValue},
      {"sidecar.istio.io/logLevel", {"Pod"}, kStable, "", logLevel},
      {"sidecar.istio.io/componentLogLevel", {"Pod"}, kStable, "", anyValue},
      {"sidecar.istio.io/agentLogLevel", {"Pod"}, kStable, "", anyValue},
      {"sidecar.istio.io/interceptionMode", {"Pod"}, kStable, "", interceptionMode},
      {"sidecar.istio.io/rewriteAppHTTPProbers", {"Pod"}, kStable, "", boolean},
      {"sidecar.istio.io/userVolume", {"Pod"}, kStable, "", anyValue},
      {"sidecar.istio.io/userVolumeMount", {"Pod"}, kStable, "", anyValue},
      {"sidecar.istio.io/bootstrapOverride", {"Pod"}, kStable, "", anyValue},
      {"sidecar.istio.io/enableCoreDump", {"Pod"}, kStable, "", boolean},
      {"sidecar.istio.io/nativeSidecar", {"Pod"}, kStable, "", boolean},
      {"sidecar.istio.io/statsHistogramBuckets", {"Pod"}, kStable, "", anyValue},
      {"sidecar.istio.io/statsInclusionPrefixes", {"Pod"}, kDeprecated,
       "proxy.istio.io/config proxyStatsMatcher", anyValue},
      {"sidecar.istio.io/statsInclusionRegexps", {"Pod"}, kDeprecated,
       "proxy.istio.io/config proxyStatsMatcher", anyValue},
      {"sidecar.istio.io/statsInclusionSuffixes", {"Pod"}, kDeprecated,
       "proxy.istio.io/config proxyStatsMatcher", anyValue},
      {"sidecar.istio.io/extraStatTags", {"Pod"}, kDeprecated,
       "proxy.istio.io/config extraStatTags", anyValue},
      {"sidecar.istio.io/discoveryAddress", {"Pod"}, kDeprecated,
       "proxy.istio.io/config discoveryAddress", anyValue},
      {"traffic.sidecar.istio.io/includeOutboundIPRanges", {"Pod"}, kStable, "", cidrList},
      {"traffic.sidecar.istio.io/excludeOutboundIPRanges", {"Pod"}, kStable, "", cidrList},
      {"traffic.sidecar.istio.io/includeInboundPorts", {"Pod"}, kStable, "", portList},
      {"traffic.sidecar.istio.io/excludeInboundPorts", {"Pod"}, kStable, "", portList},
      {"traffic.sidecar.istio.io/includeOutboundPorts", {"Pod"}, kStable, "", portList},
      {"traffic.sidecar.istio.io/excludeOutboundPorts", {"Pod"}, kStable, "", portList},
      {"traffic.sidecar.istio.io/excludeInterfaces", {"Pod"}, kStable, "", anyValue},
      {"traffic.sidecar.istio.io/kubevirtInterfaces", {"Pod"}, kDeprecated,
       "istio.io/reroute-virtual-interfaces", anyValue},
      {"istio.io/reroute-virtual-interfaces", {"Pod"}, kStable, "", anyValue},
      {"status.sidecar.istio.io/port", {"Pod"}, kStable, "", unsignedInt},
      {"readiness.status.sidecar.istio.io/initialDelaySeconds", {"Pod"}, kStable, "",
       unsignedInt},
      {"readiness.status.sidecar.istio.io/periodSeconds", {"Pod"}, kStable, "", unsignedInt},
      {"readiness.status.sidecar.istio.io/failureThreshold", {"Pod"}, kStable, "", unsignedInt},
      {"readiness.status.sidecar.istio.io/applicationPorts", {"Pod"}, kDeprecated, "",
       portList},
      {"proxy.istio.io/config", {"Pod"}, kStable, "", anyValue},
      {"proxy.istio.io/overrides", {"Pod"}, kStable, "", anyValue},
      {"prometheus.istio.io/merge-metrics", {"Pod"}, kStable, "", boolean},
      {"inject.istio.io/templates", {"Pod"}, kAlpha, "", anyValue},
      {"istio.io/rev", {"Pod"}, kStable, "", anyValue},
      {"ambient.istio.io/redirection", {"Pod"}, kStable, "", anyValue},
      {"policy.istio.io/check", {"Pod"}, kDeprecated, "", anyValue},
      {"policy.istio.io/checkRetries", {"Pod"}, kDeprecated, "", anyValue},
      {"policy.istio.io/checkBaseEjectionDuration", {"Pod"}, kDeprecated, "", anyValue},
      {"policy.istio.io/checkNetworkFailurePolicy", {"Pod"}, kDeprecated, "", anyValue},
      {"networking.istio.io/exportTo", {"Service"}, kStable, "", anyValue},
      {"networking.istio.io/traffic-distribution", {"Service"}, kAlpha, "", anyValue},
      {"networking.istio.io/service-type", {"Gateway"}, kStable, "", anyValue},
      {"istio.io/dry-run", {"AuthorizationPolicy"}, kAlpha, "", boolean},
      {"galley.istio.io/analyze-suppress", {}, kStable, "", anyValue},
      {"install.operator.istio.io/chart-owner", {}, kStable, "", anyValue},
      {"install.operator.istio.io/owning-resource", {}, kStable, "", anyValue},
      {"install.operator.istio.io/owning-resource-namespace", {}, kStable, "", anyValue},
      {"operator.istio.io/component", {}, kStable, "", anyValue},
      {"operator.istio.io/managed", {}, kStable, "", anyValue},
      {"operator.istio.io/version", {}, kStable, "", anyValue},
  };
  return t;
}

}  // namespace

const AnnotationInfo* findAnnotation(std::string_view name) {
  for (const AnnotationInfo& a : table()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

bool isIstioAnnotation(std::string_view key) {
  auto slash = key.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view domain = key.substr(0, slash);
  const std::string_view suffix = ".istio.io";
  return domain == "istio.io" ||
         (domain.size() > suffix.size() &&
          domain.substr(domain.size() - suffix.size()) == suffix);
}

}  // namespace mesh::pilot::analysis
