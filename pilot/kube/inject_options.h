// What sidecar injection adds, and when. The same options serve `mesh inject` (manual: every
// workload unless it opts out) and pilot's webhook (only pods in labelled namespaces or
// labelled themselves), so both produce the same pods.
#pragma once

#include <string>

#include "pilot/kube/values.h"

namespace mesh::pilot::kube {

// Ports and ids the injected containers agree on with `mesh proxy` (docs/install.md).
inline constexpr int kProxyUid = 1337;
inline constexpr int kOutboundCapturePort = 15001;
inline constexpr int kInboundCapturePort = 15006;
inline constexpr int kHealthPort = 15021;
inline constexpr int kPrometheusPort = 15090;
inline constexpr const char* kInjectAnnotation = "sidecar.istio.io/inject";
inline constexpr const char* kStatusAnnotation = "sidecar.istio.io/status";
inline constexpr const char* kRewriteProbesAnnotation = "sidecar.istio.io/rewriteAppHTTPProbers";
inline constexpr const char* kNamespaceLabel = "istio-injection";
inline constexpr const char* kProbersEnv = "ISTIO_KUBE_APP_PROBERS";
// Istio's container names: dashboards, Kiali, `kubectl logs -c istio-proxy` habits and the
// analyzer (IST0103, IST0144) recognise the sidecar by them.
inline constexpr const char* kProxyContainer = "istio-proxy";
inline constexpr const char* kInitContainer = "istio-init";

struct InjectOptions {
  std::string image;  // the mesh image, e.g. "ghcr.io/mesh-project/mesh:0.1.0"
  std::string imagePullPolicy = "IfNotPresent";
  std::string pilotAddress;  // host:port of pilot's config channel
  std::string caAddress;     // host:port of the CA
  std::string trustDomain = "cluster.local";
  std::string controlPlaneNamespace = "mesh-system";
  std::string cpuRequest = "10m";
  std::string memoryRequest = "16Mi";
  // Namespace of objects that name none (kubectl's default).
  std::string defaultNamespace = "default";
  // Manual injection injects what does not opt out; the webhook only what opted in.
  bool injectByDefault = true;
  // Rewrite HTTP and TCP probes to the sidecar unless a pod says otherwise.
  bool rewriteProbes = true;
};

// The options that match what `mesh install` renders with the same values.
InjectOptions injectOptionsFrom(const Values& values);

}  // namespace mesh::pilot::kube
