#include "pilot/kube/sidecar.h"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "pilot/kube/probes.h"
#include "pilot/kube/yaml_docs.h"

namespace mesh::pilot::kube {

using core::Code;
using core::Status;

namespace {

constexpr const char* kCertsVolume = "mesh-certs";
constexpr const char* kTokenVolume = "mesh-token";

YAML::Node envFromField(const char* name, const char* fieldPath) {
  YAML::Node env;
  env["name"] = name;
  env["valueFrom"]["fieldRef"]["fieldPath"] = fieldPath;
  return env;
}

YAML::Node httpProbe(const char* path, int period, int failures) {
  YAML::Node probe;
  probe["httpGet"]["path"] = path;
  probe["httpGet"]["port"] = kHealthPort;
  probe["periodSeconds"] = period;
  probe["failureThreshold"] = failures;
  return probe;
}

YAML::Node requests(const InjectOptions& options) {
  YAML::Node resources;
  resources["requests"]["cpu"] = options.cpuRequest;
  resources["requests"]["memory"] = options.memoryRequest;
  return resources;
}

YAML::Node seq(std::initializer_list<std::string> items) {
  YAML::Node node(YAML::NodeType::Sequence);
  for (const auto& item : items) node.push_back(item);
  return node;
}

// Istio's pod annotations that narrow what is captured, and the `mesh proxy iptables` flag
// each becomes. Their values go through as written: the flag checks them, and `mesh
// analyze` reports a bad one before it reaches a pod (IST0125).
struct CaptureAnnotation {
  const char* annotation;
  const char* flag;
  bool portList;  // else IPv4 CIDRs
  // The flag always lists the sidecar's own ports (health, Prometheus), the pod's added.
  bool withProxyPorts = false;
};
constexpr CaptureAnnotation kCaptureAnnotations[] = {
    {"traffic.sidecar.istio.io/includeInboundPorts", "--inbound-ports", true},
    {"traffic.sidecar.istio.io/excludeInboundPorts", "--exclude-inbound-ports", true, true},
    {"traffic.sidecar.istio.io/includeOutboundIPRanges", "--include-outbound-ips", false},
    {"traffic.sidecar.istio.io/excludeOutboundIPRanges", "--exclude-outbound-ips", false},
    {"traffic.sidecar.istio.io/excludeOutboundPorts", "--exclude-outbound-ports", true},
};

// What such a value may hold: "*", or a comma-separated list of ports or CIDRs (spaces
// allowed). Anything else is refused at injection, with the annotation named.
bool plausibleList(const std::string& value, bool ports) {
  if (value == "*") return true;
  for (char c : value) {
    bool ok = (c >= '0' && c <= '9') || c == ',' || c == ' ' || (!ports && (c == '.' || c == '/'));
    if (!ok) return false;
  }
  return true;
}

// `mesh proxy iptables`: redirects the pod's traffic to the sidecar, then exits. It needs
// root inside the pod's network namespace and the two network capabilities, nothing else.
core::Result<YAML::Node> initContainer(const InjectOptions& options, const YAML::Node& metadata) {
  std::vector<std::string> args{"proxy", "iptables", "--proxy-uid=" + std::to_string(kProxyUid),
                                "--outbound-port=" + std::to_string(kOutboundCapturePort),
                                "--inbound-port=" + std::to_string(kInboundCapturePort)};
  for (const auto& a : kCaptureAnnotations) {
    const YAML::Node value = lookup(metadata, {"annotations", a.annotation});
    bool annotated = value.IsDefined() && value.IsScalar();
    std::string text = annotated ? value.Scalar() : std::string();
    if (annotated && !plausibleList(text, a.portList)) {
      const char* wanted = a.portList ? "'*' or a list of ports" : "'*' or a list of IPv4 CIDRs";
      return core::error(Code::invalid, std::string("annotation ") + a.annotation + ": \"" +
                                            text + "\" is not " + wanted);
    }
    if (a.withProxyPorts) {
      std::string ports = std::to_string(kHealthPort) + "," + std::to_string(kPrometheusPort);
      if (!text.empty() && text != "*") ports += "," + text;
      args.push_back(std::string(a.flag) + "=" + ports);
    } else if (annotated) {
      args.push_back(std::string(a.flag) + "=" + text);
    }
  }
  YAML::Node c;
  c["name"] = kInitContainer;
  c["image"] = options.image;
  c["imagePullPolicy"] = options.imagePullPolicy;
  c["command"] = seq({"mesh"});
  YAML::Node argList(YAML::NodeType::Sequence);
  for (const auto& arg : args) argList.push_back(arg);
  c["args"] = argList;
  c["resources"] = requests(options);
  YAML::Node security;
  security["capabilities"]["add"] = seq({"NET_ADMIN", "NET_RAW"});
  security["capabilities"]["drop"] = seq({"ALL"});
  security["privileged"] = false;
  security["allowPrivilegeEscalation"] = false;
  security["readOnlyRootFilesystem"] = true;
  security["runAsUser"] = 0;
  security["runAsGroup"] = 0;
  security["runAsNonRoot"] = false;
  c["securityContext"] = security;
  return YAML::Node(c);
}

YAML::Node proxyContainer(const InjectOptions& options, const nlohmann::json& probers) {
  YAML::Node c;
  c["name"] = kProxyContainer;
  c["image"] = options.image;
  c["imagePullPolicy"] = options.imagePullPolicy;
  c["restartPolicy"] = "Always";
  c["command"] = seq({"mesh"});
  c["args"] = seq({"proxy", "--namespace=$(POD_NAMESPACE)", "--service-account=$(SERVICE_ACCOUNT)",
                   "--pod-name=$(POD_NAME)", "--pod-ip=$(INSTANCE_IP)",
                   "--pilot-address=" + options.pilotAddress, "--ca-address=" + options.caAddress,
                   "--token-file=/var/run/secrets/tokens/mesh-token",
                   "--trust-domain=" + options.trustDomain});
  // The pod's identity, from the downward API: the proxy asks the CA for exactly this one.
  YAML::Node env(YAML::NodeType::Sequence);
  env.push_back(envFromField("POD_NAME", "metadata.name"));
  env.push_back(envFromField("POD_NAMESPACE", "metadata.namespace"));
  env.push_back(envFromField("SERVICE_ACCOUNT", "spec.serviceAccountName"));
  env.push_back(envFromField("INSTANCE_IP", "status.podIP"));
  if (!probers.empty()) {
    YAML::Node var;
    var["name"] = kProbersEnv;
    var["value"] = quotedScalar(probers.dump());
    env.push_back(var);
  }
  c["env"] = env;
  YAML::Node port;
  port["name"] = "http-envoy-prom";
  port["containerPort"] = kPrometheusPort;
  port["protocol"] = "TCP";
  c["ports"].push_back(port);
  // The app's containers start only once the startup probe passes: the proxy has its
  // certificate and its first config before the app sends a byte.
  c["startupProbe"] = httpProbe("/healthz/ready", 1, 600);
  c["readinessProbe"] = httpProbe("/healthz/ready", 15, 4);
  c["resources"] = requests(options);
  YAML::Node security;
  security["runAsUser"] = kProxyUid;
  security["runAsGroup"] = kProxyUid;
  security["runAsNonRoot"] = true;
  security["readOnlyRootFilesystem"] = true;
  security["allowPrivilegeEscalation"] = false;
  security["capabilities"]["drop"] = seq({"ALL"});
  c["securityContext"] = security;
  YAML::Node certs;
  certs["name"] = kCertsVolume;
  certs["mountPath"] = "/var/run/mesh";
  YAML::Node token;
  token["name"] = kTokenVolume;
  token["mountPath"] = "/var/run/secrets/tokens";
  token["readOnly"] = true;
  c["volumeMounts"].push_back(certs);
  c["volumeMounts"].push_back(token);
  return c;
}

void addVolumes(YAML::Node spec) {
  YAML::Node certs;
  certs["name"] = kCertsVolume;
  certs["emptyDir"]["medium"] = "Memory";
  // The bootstrap credential: a token only the CA accepts (its audience), rotated by kubelet.
  YAML::Node token;
  token["name"] = kTokenVolume;
  YAML::Node source;
  source["serviceAccountToken"]["audience"] = "mesh-ca";
  source["serviceAccountToken"]["expirationSeconds"] = 43200;
  source["serviceAccountToken"]["path"] = "mesh-token";
  token["projected"]["sources"].push_back(source);
  spec["volumes"].push_back(certs);
  spec["volumes"].push_back(token);
}

// Capture first, then the sidecar, then the app's own init containers, which so already
// have the mesh.
void addInitContainers(YAML::Node spec, YAML::Node init, YAML::Node proxy) {
  YAML::Node containers(YAML::NodeType::Sequence);
  containers.push_back(init);
  containers.push_back(proxy);
  if (spec["initContainers"] && spec["initContainers"].IsSequence()) {
    for (const auto& existing : spec["initContainers"]) containers.push_back(existing);
  }
  spec["initContainers"] = containers;
}

void setIfAbsent(YAML::Node map, const char* key, const std::string& value) {
  if (!map[key]) map[key] = quotedScalar(value);
}

void annotate(YAML::Node metadata) {
  YAML::Node annotations = metadata["annotations"];
  if (!annotations || !annotations.IsMap()) {
    metadata["annotations"] = YAML::Node(YAML::NodeType::Map);
    annotations.reset(metadata["annotations"]);
  }
  nlohmann::json status = {{"initContainers", {kInitContainer, kProxyContainer}},
                           {"containers", nlohmann::json::array()},
                           {"volumes", {kCertsVolume, kTokenVolume}}};
  annotations[kStatusAnnotation] = quotedScalar(status.dump());
  // Istio's scrape hints; a pod's own settings win.
  setIfAbsent(annotations, "prometheus.io/scrape", "true");
  setIfAbsent(annotations, "prometheus.io/port", std::to_string(kPrometheusPort));
  setIfAbsent(annotations, "prometheus.io/path", "/stats/prometheus");
  YAML::Node labels = metadata["labels"];
  if (!labels || !labels.IsMap()) {
    metadata["labels"] = YAML::Node(YAML::NodeType::Map);
    labels.reset(metadata["labels"]);
  }
  labels["security.istio.io/tlsMode"] = "istio";
}

bool rewriteAllowed(const YAML::Node& metadata, const InjectOptions& options) {
  const YAML::Node value = lookup(metadata, {"annotations", kRewriteProbesAnnotation});
  if (value.IsDefined() && value.IsScalar()) return value.Scalar() != "false";
  return options.rewriteProbes;
}

}  // namespace

bool isInjected(const YAML::Node& podTemplate) {
  if (lookup(podTemplate, {"metadata", "annotations", kStatusAnnotation}).IsDefined()) return true;
  const YAML::Node init = lookup(podTemplate, {"spec", "initContainers"});
  if (!init.IsDefined() || !init.IsSequence()) return false;
  for (const auto& c : init) {
    if (c.IsMap() && c["name"] && c["name"].IsScalar() && c["name"].Scalar() == kProxyContainer) {
      return true;
    }
  }
  return false;
}

Status injectPod(YAML::Node podTemplate, const InjectOptions& options) {
  YAML::Node spec = podTemplate["spec"];
  if (!spec || !spec.IsMap()) return core::error(Code::invalid, "the pod has no spec");
  const YAML::Node containers = spec["containers"];
  if (!containers || !containers.IsSequence() || containers.size() == 0) {
    return core::error(Code::invalid, "the pod spec has no containers");
  }
  if (!podTemplate["metadata"] || !podTemplate["metadata"].IsMap()) {
    podTemplate["metadata"] = YAML::Node(YAML::NodeType::Map);
  }
  YAML::Node metadata = podTemplate["metadata"];
  nlohmann::json probers = nlohmann::json::object();
  if (rewriteAllowed(metadata, options)) probers = rewriteProbes(spec);
  auto init = initContainer(options, metadata);
  if (!init.ok()) return init.status();
  addInitContainers(spec, *init, proxyContainer(options, probers));
  addVolumes(spec);
  annotate(metadata);
  return {};
}

}  // namespace mesh::pilot::kube
