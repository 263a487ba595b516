// Workloads of `mesh up`: the Kubernetes Deployments of a directory, reduced to what running
// them as local processes needs (the first container's command, env and ports, the pod
// template's labels and service account, the replica count). Pure: tests feed it loaded
// resources and look at what comes out.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/config/resource.h"

namespace mesh::cmd::up {

// One `env:` entry: a literal value, or a downward-API field (metadata.name,
// metadata.namespace, spec.serviceAccountName), which mesh up fills in per pod.
struct EnvVar {
  std::string name;
  std::string value;
  std::string fieldPath;  // set for valueFrom.fieldRef
};

struct Workload {
  std::string name;  // the Deployment's name
  std::string ns;
  int replicas = 1;
  std::map<std::string, std::string> labels;  // the pod template's
  std::string serviceAccount = "default";
  std::vector<std::string> command;  // the container's command followed by its args
  std::vector<EnvVar> env;
  std::vector<std::uint32_t> ports;  // containerPorts, in order
  std::string source;                // "file:line", for messages

  std::string key() const { return ns + "/" + name; }
  // Changes whenever anything that shapes one pod changes; not with the replica count, so a
  // scaled Deployment keeps its pods.
  std::string podFingerprint() const;
};

struct WorkloadSet {
  std::vector<Workload> workloads;    // in file order
  std::vector<std::string> errors;    // Deployments that cannot run here, and why
  std::set<std::string> brokenFiles;  // the files of those Deployments
};

// The Deployments (apps/v1) among `resources`. A Deployment without a command, with more
// than one container, or with a bad field is reported in `errors` and left out; the others
// still run.
WorkloadSet extractWorkloads(const std::vector<core::config::Resource>& resources);

}  // namespace mesh::cmd::up
