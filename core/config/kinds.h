// Internal to core/config: the kinds mesh reads (see docs and ISTIO.md's list), each with
// the versions accepted and the schema its spec is checked against.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config/resource.h"
#include "core/config/schema.h"

namespace mesh::core::config::detail {

struct KindInfo {
  std::string_view group;  // "" for Kubernetes' core group
  std::string_view kind;
  std::vector<std::string_view> versions;
  const schema::Check& (*spec)();
  // For a kind whose content is not under `spec` (a Secret's type and data): the fields
  // next to apiVersion, kind and metadata. The resource keeps them as its spec.
  std::vector<schema::Field> (*topFields)() = nullptr;
};

// nullptr for a group/kind mesh does not read (those are skipped with a note).
const KindInfo* findKind(std::string_view group, std::string_view kind);
bool supportsVersion(const KindInfo& info, std::string_view version);
std::string supportedVersions(const KindInfo& info);  // "v1, v1beta1, v1alpha3"

// Checks the whole document (apiVersion, kind, metadata, spec, status) of a resource of
// `info`'s kind; appends what is wrong to `errors`. Returns whether it found nothing.
bool validateDocument(const KindInfo& info, const Resource& resource,
                      const nlohmann::json& document, std::vector<ConfigError>& errors);

// The spec schemas, one file per API group.
const schema::Check& virtualServiceSpec();
const schema::Check& destinationRuleSpec();
const schema::Check& gatewaySpec();
const schema::Check& serviceEntrySpec();
const schema::Check& workloadEntrySpec();
const schema::Check& sidecarSpec();
const schema::Check& peerAuthenticationSpec();
const schema::Check& authorizationPolicySpec();
const schema::Check& requestAuthenticationSpec();
const schema::Check& serviceSpec();
const schema::Check& namespaceSpec();
const schema::Check& podSpec();
const schema::Check& deploymentSpec();
std::vector<schema::Field> secretFields();

}  // namespace mesh::core::config::detail
