// Kubernetes kinds that mesh reads next to Istio's (Service, Namespace, Pod, Deployment, Secret).
// Only the fields mesh uses are checked; the many others Kubernetes defines pass through,
// since refusing them would refuse ordinary manifests.
#include "core/config/kinds.h"

#include <algorithm>

#include "core/base/base64.h"

namespace mesh::core::config::detail {
namespace {

using namespace schema;

Check open(std::vector<Field> fields) { return object(std::move(fields), {}, Unknown::allow); }

Check protocol() { return enumOf({"TCP", "UDP", "SCTP"}); }

// A port by number or by the name of a container port.
Check intOrName() {
  return [](Context& c, const json& v, const FieldPath& p) {
    bool number = v.is_number_integer() && v.get<std::int64_t>() >= 1 &&
                  v.get<std::int64_t>() <= 65535;
    bool name = v.is_string() && !v.get_ref<const std::string&>().empty();
    if (!number && !name) c.error(p, "must be a port number between 1 and 65535 or a port name");
  };
}

const Check& container() {
  static const Check check = open({
      {"name", nonEmptyString(), kRequired},
      {"image", string()},
      {"ports", listOf(open({{"containerPort", port(), kRequired},
                             {"name", string()},
                             {"protocol", protocol()}}))},
  });
  return check;
}

}  // namespace

const Check& serviceSpec() {
  static const Check servicePort = open({
      {"port", port(), kRequired},
      {"targetPort", intOrName()},
      {"name", string()},
      {"protocol", protocol()},
      {"appProtocol", string()},
      {"nodePort", port()},
  });
  static const Check check = open({
      {"selector", stringMap()},
      {"ports", listOf(servicePort)},
      {"type", enumOf({"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"})},
      {"clusterIP", string()},
      {"externalName", string()},
  });
  return check;
}

const Check& namespaceSpec() {
  static const Check check = open({{"finalizers", stringList()}});
  return check;
}

namespace {

// Standard base64 with its padding, as Kubernetes stores a Secret's data. The value itself is
// never quoted: it is a key or a certificate.
Check base64() {
  return [](Context& c, const json& v, const FieldPath& p) {
    if (!v.is_string()) return c.error(p, "must be a base64 string");
    bool ok = core::decodeBase64(v.get_ref<const std::string&>()).has_value();
    if (!ok) c.error(p, "must be base64 (standard alphabet, padded to a multiple of 4)");
  };
}

}  // namespace

std::vector<Field> secretFields() {
  return {
      {"type", string()},
      {"data", mapOf(base64())},
      {"stringData", stringMap()},
      {"immutable", boolean()},
  };
}

const Check& podSpec() {
  static const Check check = open({
      {"containers", listOf(container())},
      {"initContainers", listOf(container())},
      {"serviceAccountName", string()},
  });
  return check;
}

const Check& deploymentSpec() {
  static const Check templateMetadata =
      open({{"labels", stringMap()}, {"annotations", stringMap()}});
  static const Check check = open({
      {"replicas", integer(0, INT32_MAX)},
      {"selector", open({{"matchLabels", stringMap()}})},
      {"template", open({{"metadata", templateMetadata}, {"spec", podSpec()}})},
  });
  return check;
}

}  // namespace mesh::core::config::detail
