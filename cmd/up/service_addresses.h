// Service addresses for `mesh up --netns`. In a cluster the API server gives every Service a
// clusterIP; the sidecar's capture listener knows an HTTP service by that address and port
// (the original destination of a captured connection), and the pod finds the address by name
// through cluster DNS. Here mesh up plays both parts: it writes a clusterIP into pilot's copy
// of each Service that has none (the user's files are left as they are), and names every
// Service in each pod's /etc/hosts, with Kubernetes' search list in its resolv.conf.
//
// Pure functions of text: the caller keeps the name-to-address map, so a Service keeps its
// address across reloads.
#pragma once

#include <functional>
#include <map>
#include <string>

namespace mesh::cmd::up {

// "namespace/name" -> address.
using ServiceAddresses = std::map<std::string, std::string>;

// `text` (YAML, one or more documents) with `clusterIP: <addressFor(ns, name)>` added under
// `spec:` of every v1 Service that has no clusterIP and is not of type ExternalName. Only
// block-style YAML is changed (top-level `kind:`, `metadata:` with `name:`, `spec:` followed
// by its keys on their own lines); anything else is returned as it was.
std::string withClusterIps(
    const std::string& text,
    const std::function<std::string(const std::string& ns, const std::string& name)>& addressFor);

// A pod's /etc/hosts: localhost, the pod's own name, and for every service its address with
// `name.ns.svc.cluster.local`, `name.ns.svc` and `name.ns`, plus the bare `name` for services of
// the pod's own namespace (programs that read /etc/hosts without a search list, as glibc's).
std::string podHostsFile(const std::string& podNamespace, const std::string& podName,
                         const std::string& podAddress, const ServiceAddresses& services);

// A pod's /etc/resolv.conf: Kubernetes' search list for its namespace, and a name server on the
// pod's own loopback where none listens, so a name outside /etc/hosts fails at once instead of
// waiting on a server the pod cannot reach.
std::string podResolvConf(const std::string& podNamespace);

}  // namespace mesh::cmd::up
