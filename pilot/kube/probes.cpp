#include "pilot/kube/probes.h"

#include <optional>
#include <string>

#include "pilot/kube/inject_options.h"
#include "pilot/kube/yaml_docs.h"

namespace mesh::pilot::kube {

namespace {

struct ProbeKind {
  const char* field;   // the container's field
  const char* suffix;  // the path's last segment
};

constexpr ProbeKind kProbeKinds[] = {
    {"livenessProbe", "livez"},
    {"readinessProbe", "readyz"},
    {"startupProbe", "startupz"},
};

std::optional<long> toNumber(const std::string& text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  long value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value < 1 || value > 65535) return std::nullopt;
  return value;
}

// A port as written in a probe (number or name) as the number the container listens on.
std::optional<long> resolvePort(const YAML::Node& port, const YAML::Node& container) {
  if (!port || !port.IsScalar()) return std::nullopt;
  if (auto number = toNumber(port.Scalar())) return number;
  const YAML::Node ports = container["ports"];
  if (!ports || !ports.IsSequence()) return std::nullopt;
  for (const auto& declared : ports) {
    if (declared.IsMap() && declared["name"] && declared["name"].IsScalar() &&
        declared["name"].Scalar() == port.Scalar() && declared["containerPort"]) {
      return toNumber(declared["containerPort"].Scalar());
    }
  }
  return std::nullopt;
}

nlohmann::json scalarJson(const YAML::Node& node) {
  if (auto number = toNumber(node.Scalar()); number && node.Tag() != "!") return *number;
  return node.Scalar();
}

// The original handler as the sidecar needs it, or nothing when the probe stays.
std::optional<nlohmann::json> original(const YAML::Node& probe, const YAML::Node& container) {
  nlohmann::json saved;
  if (const YAML::Node http = probe["httpGet"]; http && http.IsMap()) {
    auto port = resolvePort(http["port"], container);
    if (!port || *port == kHealthPort) return std::nullopt;
    nlohmann::json get = {{"port", *port}};
    get["path"] = http["path"] && http["path"].IsScalar() ? http["path"].Scalar() : "/";
    get["scheme"] = http["scheme"] && http["scheme"].IsScalar() ? http["scheme"].Scalar() : "HTTP";
    if (http["host"] && http["host"].IsScalar()) get["host"] = http["host"].Scalar();
    if (const YAML::Node headers = http["httpHeaders"]; headers && headers.IsSequence()) {
      get["httpHeaders"] = nlohmann::json::array();
      for (const auto& header : headers) {
        if (!header.IsMap() || !header["name"]) continue;
        get["httpHeaders"].push_back(
            {{"name", header["name"].Scalar()},
             {"value", header["value"] ? header["value"].Scalar() : std::string()}});
      }
    }
    saved["httpGet"] = get;
  } else if (const YAML::Node tcp = probe["tcpSocket"]; tcp && tcp.IsMap()) {
    auto port = resolvePort(tcp["port"], container);
    if (!port || *port == kHealthPort) return std::nullopt;
    saved["tcpSocket"] = {{"port", *port}};
  } else {
    return std::nullopt;
  }
  if (probe["timeoutSeconds"] && probe["timeoutSeconds"].IsScalar()) {
    saved["timeoutSeconds"] = scalarJson(probe["timeoutSeconds"]);
  }
  return saved;
}

// Keeps the probe's timing fields and replaces its handler with a GET to the sidecar.
void pointAtSidecar(YAML::Node probe, const std::string& path) {
  probe.remove("httpGet");
  probe.remove("tcpSocket");
  YAML::Node get;
  get["path"] = path;
  get["port"] = kHealthPort;
  get["scheme"] = "HTTP";
  probe["httpGet"] = get;
}

}  // namespace

nlohmann::json rewriteProbes(YAML::Node podSpec) {
  nlohmann::json probers = nlohmann::json::object();
  YAML::Node containers = podSpec["containers"];
  if (!containers || !containers.IsSequence()) return probers;
  for (YAML::Node container : containers) {
    if (!container.IsMap() || !container["name"] || !container["name"].IsScalar()) continue;
    const std::string name = container["name"].Scalar();
    for (const ProbeKind& kind : kProbeKinds) {
      YAML::Node probe = container[kind.field];
      if (!probe || !probe.IsMap()) continue;
      auto saved = original(probe, container);
      if (!saved) continue;
      const std::string path = "/app-health/" + name + "/" + kind.suffix;
      probers[path] = *saved;
      pointAtSidecar(probe, path);
    }
  }
  return probers;
}

}  // namespace mesh::pilot::kube
