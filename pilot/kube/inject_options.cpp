#include "pilot/kube/inject_options.h"

namespace mesh::pilot::kube {

InjectOptions injectOptionsFrom(const Values& values) {
  InjectOptions options;
  const std::string& ns = values.get("namespace");
  options.image = values.get("hub") + "/mesh:" + values.get("tag");
  options.imagePullPolicy = values.get("imagePullPolicy");
  options.pilotAddress = "mesh-pilot." + ns + ".svc:15012";
  options.caAddress = "mesh-ca." + ns + ".svc:15011";
  options.trustDomain = values.get("trustDomain");
  options.controlPlaneNamespace = ns;
  options.cpuRequest = values.get("proxy.resources.requests.cpu");
  options.memoryRequest = values.get("proxy.resources.requests.memory");
  return options;
}

}  // namespace mesh::pilot::kube
