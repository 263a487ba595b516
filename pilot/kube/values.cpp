#include "pilot/kube/values.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <utility>

#include "mesh_version.h"

namespace mesh::pilot::kube {

using core::Code;
using core::Result;
using core::Status;

const std::vector<ValueSpec>& valueSpecs() {
  static const std::vector<ValueSpec> specs = {
      {"profile", "default|demo|minimal", "the base set of values"},
      {"namespace", "name", "namespace of the control plane"},
      {"hub", "image", "registry and repository prefix of the mesh image"},
      {"tag", "tag", "tag of the mesh image"},
      {"imagePullPolicy", "IfNotPresent|Always|Never", "pull policy of every mesh container"},
      {"trustDomain", "domain", "SPIFFE trust domain of workload identities"},
      {"logLevel", "trace|debug|info|warn|error", "log level of the control plane"},
      {"meshConfig.accessLogFile", "path", "proxy access log file (empty: no access log)"},
      {"pilot.replicas", "int", "pilot replicas"},
      {"pilot.resources.requests.cpu", "cpu", "pilot CPU request"},
      {"pilot.resources.requests.memory", "memory", "pilot memory request"},
      {"pilot.resources.limits.memory", "memory", "pilot memory limit"},
      {"ca.replicas", "int", "CA replicas"},
      {"ca.resources.requests.cpu", "cpu", "CA CPU request"},
      {"ca.resources.requests.memory", "memory", "CA memory request"},
      {"ca.resources.limits.memory", "memory", "CA memory limit"},
      {"proxy.resources.requests.cpu", "cpu", "sidecar CPU request (injection)"},
      {"proxy.resources.requests.memory", "memory", "sidecar memory request (injection)"},
      {"pdb.enabled", "bool", "PodDisruptionBudgets for the control plane and gateways"},
      {"webhook.enabled", "bool", "the mutating webhook that injects sidecars"},
      {"webhook.failurePolicy", "Fail|Ignore", "what the API server does when pilot is down"},
      {"gateways.ingress.enabled", "bool", "the ingress gateway"},
      {"gateways.ingress.replicas", "int", "ingress gateway replicas"},
      {"gateways.ingress.serviceType", "LoadBalancer|NodePort|ClusterIP",
       "type of the ingress gateway's Service"},
      {"gateways.egress.enabled", "bool", "the egress gateway"},
  };
  return specs;
}

const std::vector<std::string_view>& profileNames() {
  static const std::vector<std::string_view> names = {"default", "demo", "minimal"};
  return names;
}

namespace {

using Assignments = std::vector<std::pair<std::string_view, std::string_view>>;

// The default profile: a production control plane with an ingress gateway, as istioctl's.
const Assignments& baseValues() {
  static const Assignments values = {
      {"namespace", "mesh-system"},
      {"hub", "ghcr.io/mesh-project"},
      {"tag", MESH_VERSION},
      {"imagePullPolicy", "IfNotPresent"},
      {"trustDomain", "cluster.local"},
      {"logLevel", "info"},
      {"meshConfig.accessLogFile", ""},
      {"pilot.replicas", "2"},
      {"pilot.resources.requests.cpu", "100m"},
      {"pilot.resources.requests.memory", "128Mi"},
      {"pilot.resources.limits.memory", "1Gi"},
      {"ca.replicas", "1"},
      {"ca.resources.requests.cpu", "50m"},
      {"ca.resources.requests.memory", "32Mi"},
      {"ca.resources.limits.memory", "256Mi"},
      {"proxy.resources.requests.cpu", "10m"},
      {"proxy.resources.requests.memory", "16Mi"},
      {"pdb.enabled", "true"},
      {"webhook.enabled", "true"},
      {"webhook.failurePolicy", "Fail"},
      {"gateways.ingress.enabled", "true"},
      {"gateways.ingress.replicas", "2"},
      {"gateways.ingress.serviceType", "LoadBalancer"},
      {"gateways.egress.enabled", "false"},
  };
  return values;
}

// What each profile changes on top of the default one.
const Assignments& profileOverrides(std::string_view profile) {
  // demo: everything on, one replica each, small requests, access logs and debug logging, for
  // trying mesh out on a laptop cluster. PodDisruptionBudgets would block node drains there.
  static const Assignments demo = {
      {"logLevel", "debug"},
      {"meshConfig.accessLogFile", "/dev/stdout"},
      {"pilot.replicas", "1"},
      {"pilot.resources.requests.cpu", "10m"},
      {"pilot.resources.requests.memory", "64Mi"},
      {"ca.resources.requests.cpu", "10m"},
      {"ca.resources.requests.memory", "16Mi"},
      {"pdb.enabled", "false"},
      {"webhook.failurePolicy", "Ignore"},
      {"gateways.ingress.replicas", "1"},
      {"gateways.egress.enabled", "true"},
  };
  // minimal: the control plane only (CA, pilot, webhook), no gateways.
  static const Assignments minimal = {
      {"pilot.replicas", "1"},
      {"gateways.ingress.enabled", "false"},
  };
  static const Assignments none;
  if (profile == "demo") return demo;
  if (profile == "minimal") return minimal;
  return none;
}

const ValueSpec* findSpec(std::string_view key) {
  for (const auto& spec : valueSpecs()) {
    if (spec.key == key) return &spec;
  }
  return nullptr;
}

bool matches(std::string_view value, const char* pattern) {
  static thread_local std::map<const char*, std::regex> cache;
  auto found = cache.find(pattern);
  if (found == cache.end()) found = cache.emplace(pattern, std::regex(pattern)).first;
  return std::regex_match(value.begin(), value.end(), found->second);
}

bool inSet(std::string_view value, std::string_view set) {
  while (!set.empty()) {
    auto bar = set.find('|');
    if (set.substr(0, bar) == value) return true;
    if (bar == std::string_view::npos) break;
    set.remove_prefix(bar + 1);
  }
  return false;
}

// Checks `value` against `type`; returns what is wrong, or an empty string.
std::string typeError(std::string_view type, std::string_view value) {
  if (type.find('|') != std::string_view::npos) {
    return inSet(value, type) ? "" : "must be one of " + std::string(type);
  }
  struct Rule {
    std::string_view type;
    const char* pattern;
    const char* expected;
  };
  static const Rule rules[] = {
      {"bool", "true|false", "true or false"},
      {"int", "[0-9]{1,4}", "a whole number from 0 to 9999"},
      {"cpu", "[0-9]{1,6}m|[0-9]{1,3}(\\.[0-9]{1,3})?", "a CPU quantity such as 100m or 0.5"},
      {"memory", "[0-9]{1,6}(Ki|Mi|Gi)", "a memory quantity such as 128Mi"},
      {"name", "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", "a DNS label (lower case, digits, '-')"},
      {"domain", "[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?", "a DNS name"},
      {"image", "[a-z0-9]([-a-z0-9._/:]{0,200}[a-z0-9])?", "an image registry/repository"},
      {"tag", "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", "an image tag"},
      {"path", "(/[A-Za-z0-9_.-]+)*", "an absolute file path or nothing"},
  };
  for (const Rule& rule : rules) {
    if (rule.type == type) {
      return matches(value, rule.pattern) ? "" : std::string("must be ") + rule.expected;
    }
  }
  return "has an unknown type";
}

std::string knownKeys() {
  std::string out;
  for (const auto& spec : valueSpecs()) {
    if (!out.empty()) out += ", ";
    out += spec.key;
  }
  return out;
}

}  // namespace

Result<Values> Values::forProfile(std::string_view profile) {
  auto known = std::find(profileNames().begin(), profileNames().end(), profile);
  if (known == profileNames().end()) {
    return core::error(Code::invalid, "unknown profile '" + std::string(profile) +
                                          "' (known: default, demo, minimal)");
  }
  Values values;
  values.values_["profile"] = std::string(profile);
  for (const auto& [key, value] : baseValues()) values.values_[std::string(key)] = value;
  for (const auto& [key, value] : profileOverrides(profile)) {
    values.values_[std::string(key)] = value;
  }
  return values;
}

Result<Values> Values::fromSets(const std::vector<std::string>& sets) {
  std::string profile = "default";
  for (const auto& assignment : sets) {
    if (assignment.rfind("profile=", 0) == 0) profile = assignment.substr(8);
  }
  auto values = forProfile(profile);
  if (!values.ok()) return values.status();
  for (const auto& assignment : sets) {
    if (assignment.rfind("profile=", 0) == 0) continue;
    if (Status status = values->set(assignment); !status.ok()) return status;
  }
  return values;
}

Status Values::set(std::string_view assignment) {
  auto equals = assignment.find('=');
  if (equals == std::string_view::npos || equals == 0) {
    return core::error(Code::invalid,
                       "--set '" + std::string(assignment) + "': expected key=value");
  }
  return set(assignment.substr(0, equals), assignment.substr(equals + 1));
}

Status Values::set(std::string_view key, std::string_view value) {
  const ValueSpec* spec = findSpec(key);
  if (spec == nullptr) {
    return core::error(Code::invalid,
                       "unknown key '" + std::string(key) + "' (known: " + knownKeys() + ")");
  }
  if (key == "profile") {
    return core::error(Code::invalid, "the profile is chosen before other values are set");
  }
  if (std::string problem = typeError(spec->type, value); !problem.empty()) {
    return core::error(Code::invalid, "'" + std::string(key) + "=" + std::string(value) +
                                          "': the value " + problem);
  }
  values_[std::string(key)] = std::string(value);
  return {};
}

const std::string& Values::get(std::string_view key) const {
  static const std::string kEmpty;
  auto found = values_.find(key);
  return found == values_.end() ? kEmpty : found->second;
}

}  // namespace mesh::pilot::kube
