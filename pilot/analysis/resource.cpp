#include "pilot/analysis/resource.h"

#include <set>

namespace mesh::pilot::analysis {

std::string Resource::group() const {
  auto slash = apiVersion.find('/');
  return slash == std::string::npos ? "" : apiVersion.substr(0, slash);
}

Origin Resource::origin(const Value* field) const {
  Origin o;
  o.kind = kind;
  o.ns = writtenNs;
  o.name = name;
  o.file = file;
  o.line = (field != nullptr && field->line() > 0) ? field->line() : line;
  return o;
}

bool isClusterScoped(const std::string& kind) {
  static const std::set<std::string> kinds = {
      "Namespace", "Node", "PersistentVolume", "CustomResourceDefinition", "ClusterRole",
      "ClusterRoleBinding", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
      "StorageClass", "PriorityClass", "IngressClass", "GatewayClass", "APIService"};
  return kinds.count(kind) > 0;
}

}  // namespace mesh::pilot::analysis
