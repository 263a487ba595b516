#include "core/config/kinds.h"

#include <algorithm>

namespace mesh::core::config::detail {
namespace {

using namespace schema;

// A Secret has no spec: a spec written there is an error like any unknown field.
const Check& noSpec() {
  static const Check check = [](Context& c, const json&, const FieldPath& p) {
    c.error(p, "unknown field");
  };
  return check;
}

const std::vector<KindInfo>& kinds() {
  static const std::vector<std::string_view> kNetworking = {"v1", "v1beta1", "v1alpha3"};
  static const std::vector<std::string_view> kSecurity = {"v1", "v1beta1"};
  static const std::vector<std::string_view> kV1 = {"v1"};
  static const std::vector<KindInfo> table = {
      {"networking.istio.io", "VirtualService", kNetworking, virtualServiceSpec},
      {"networking.istio.io", "DestinationRule", kNetworking, destinationRuleSpec},
      {"networking.istio.io", "Gateway", kNetworking, gatewaySpec},
      {"networking.istio.io", "ServiceEntry", kNetworking, serviceEntrySpec},
      {"networking.istio.io", "WorkloadEntry", kNetworking, workloadEntrySpec},
      {"networking.istio.io", "Sidecar", kNetworking, sidecarSpec},
      {"security.istio.io", "PeerAuthentication", kSecurity, peerAuthenticationSpec},
      {"security.istio.io", "AuthorizationPolicy", kSecurity, authorizationPolicySpec},
      {"security.istio.io", "RequestAuthentication", kSecurity, requestAuthenticationSpec},
      {"", "Service", kV1, serviceSpec},
      {"", "Namespace", kV1, namespaceSpec},
      {"", "Pod", kV1, podSpec},
      {"apps", "Deployment", kV1, deploymentSpec},
      {"", "Secret", kV1, noSpec, secretFields},
  };
  return table;
}

bool isAlnumLower(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// Kubernetes object names: an RFC 1123 subdomain (namespaces: a label, without dots).
Check rfc1123(bool allowDots, std::size_t maxLength) {
  return [allowDots, maxLength](Context& c, const json& v, const FieldPath& p) {
    if (!v.is_string()) return c.error(p, "must be a string");
    const auto& s = v.get_ref<const std::string&>();
    bool ok = !s.empty() && s.size() <= maxLength && isAlnumLower(s.front()) &&
              isAlnumLower(s.back()) &&
              std::all_of(s.begin(), s.end(), [&](char ch) {
                return isAlnumLower(ch) || ch == '-' || (allowDots && ch == '.');
              });
    if (!ok) {
      c.error(p, std::string("must be a lowercase RFC 1123 name of at most ") +
                     std::to_string(maxLength) + " characters (a-z, 0-9, '-'" +
                     (allowDots ? ", '.'" : "") + "; starting and ending with a letter or digit)");
    }
  };
}

const Check& metadata() {
  static const Check check = object({
      {"name", rfc1123(true, 253), kRequired},
      {"namespace", rfc1123(false, 63)},
      {"labels", stringMap()},
      {"annotations", stringMap()},
      // Written by the API server; kept when users save `kubectl get -o yaml` output.
      {"generateName", string()},
      {"uid", string()},
      {"resourceVersion", string()},
      {"generation", integer(0, INT64_MAX)},
      {"creationTimestamp", any()},
      {"deletionTimestamp", any()},
      {"deletionGracePeriodSeconds", integer(0, INT64_MAX)},
      {"ownerReferences", listOf(object({}, {}, Unknown::allow))},
      {"finalizers", stringList()},
      {"managedFields", any()},
      {"selfLink", string()},
      {"clusterName", string()},
  });
  return check;
}

}  // namespace

const KindInfo* findKind(std::string_view group, std::string_view kind) {
  for (const KindInfo& info : kinds()) {
    if (info.group == group && info.kind == kind) return &info;
  }
  return nullptr;
}

bool supportsVersion(const KindInfo& info, std::string_view version) {
  return std::find(info.versions.begin(), info.versions.end(), version) != info.versions.end();
}

std::string supportedVersions(const KindInfo& info) {
  std::string out;
  for (auto v : info.versions) {
    if (!out.empty()) out += ", ";
    out += v;
  }
  return out;
}

namespace {

// The whole-document check of each kind, built once: building it copies the kind's spec
// schema, which costs more than validating a typical resource.
const Check& topLevel(const KindInfo& info) {
  static const std::vector<Check> checks = [] {
    std::vector<Check> out;
    for (const KindInfo& k : kinds()) {
      std::vector<Field> fields{
          {"apiVersion", string(), kRequired},
          {"kind", string(), kRequired},
          {"metadata", metadata(), kRequired},
      };
      if (k.topFields) {
        for (Field& f : k.topFields()) fields.push_back(std::move(f));
      } else {
        fields.push_back({"spec", k.spec()});
        fields.push_back({"status", any()});
      }
      out.push_back(object(std::move(fields)));
    }
    return out;
  }();
  return checks[static_cast<std::size_t>(&info - kinds().data())];
}

}  // namespace

bool validateDocument(const KindInfo& info, const Resource& resource,
                      const nlohmann::json& document, std::vector<ConfigError>& errors) {
  std::size_t first = errors.size();
  Context context(resource, errors);
  topLevel(info)(context, document, FieldPath());
  // Fields are visited in key order; report in file order.
  std::stable_sort(errors.begin() + static_cast<std::ptrdiff_t>(first), errors.end(),
                   [](const ConfigError& a, const ConfigError& b) { return a.line < b.line; });
  return context.errorCount() == 0;
}

}  // namespace mesh::core::config::detail
