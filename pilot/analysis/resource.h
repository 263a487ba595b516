// One Kubernetes or Istio object as the analyzers see it: identity (group, kind, namespace,
// name), where it came from (file and line) and its whole document as a Value tree.
#pragma once

#include <string>

#include "pilot/analysis/message.h"
#include "pilot/analysis/value.h"

namespace mesh::pilot::analysis {

struct Resource {
  std::string apiVersion;  // "networking.istio.io/v1beta1", "apps/v1", "v1"
  std::string kind;        // "VirtualService"
  std::string name;
  std::string writtenNs;   // metadata.namespace as written; "" when absent
  std::string ns;          // the namespace it lives in: writtenNs, or "default"; "" if cluster-scoped
  std::string file;        // "" for the built-in resources (the default ingress gateway)
  int line = 0;            // line of the document's first key
  Value doc;

  bool builtin() const { return file.empty(); }
  std::string group() const;  // "networking.istio.io"; "" for the core group
  const Value& metadata() const { return doc["metadata"]; }
  const Value& spec() const { return doc["spec"]; }
  const Value& labels() const { return metadata()["labels"]; }
  const Value& annotations() const { return metadata()["annotations"]; }
  // "ns/name" as Istio's messages name resources; just the name if cluster-scoped.
  std::string fullName() const { return ns.empty() ? name : ns + "/" + name; }
  // Origin pointing at `field`'s line, or at the resource itself when the field has none.
  Origin origin(const Value* field = nullptr) const;
};

// Kinds without a namespace (Namespace, webhook configurations, CRDs, cluster RBAC, ...).
bool isClusterScoped(const std::string& kind);

}  // namespace mesh::pilot::analysis
