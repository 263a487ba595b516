// Shapes of security.istio.io kinds: PeerAuthentication, AuthorizationPolicy,
// RequestAuthentication.
#include <string>

#include "core/config/kinds.h"

namespace mesh::core::config::detail {
namespace {

using namespace schema;

const Check& selector() {
  static const Check check = object({{"matchLabels", stringMap()}});
  return check;
}

const Check& targetRef() {
  static const Check check = object({
      {"group", string()},
      {"kind", nonEmptyString(), kRequired},
      {"name", nonEmptyString(), kRequired},
      {"namespace", string()},
  });
  return check;
}

bool isPortNumber(const std::string& s) {
  if (s.empty() || s.size() > 5 || s.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  int n = std::stoi(s);
  return n >= 1 && n <= 65535;
}

// AuthorizationPolicy ports are strings ("8080"), portLevelMtls keys too.
Check portString() {
  return [](Context& c, const json& v, const FieldPath& p) {
    if (!v.is_string() || !isPortNumber(v.get<std::string>())) {
      c.error(p, "must be a port number between 1 and 65535, written as a string");
    }
  };
}

Check portKeyed(Check value) {
  return [value = std::move(value)](Context& c, const json& v, const FieldPath& p) {
    if (!v.is_object()) return c.error(p, "must be an object");
    for (const auto& [key, item] : v.items()) {
      if (!isPortNumber(key)) {
        c.error(p.field(key), "must be keyed by a port number between 1 and 65535");
      } else if (!item.is_null()) {
        value(c, item, p.field(key));
      }
    }
  };
}

const Check& mtls() {
  static const Check check =
      object({{"mode", enumOf({"UNSET", "DISABLE", "PERMISSIVE", "STRICT"})}});
  return check;
}

// CUSTOM delegates to an extension provider, which then must be named; the provider means
// nothing with any other action.
Check customNeedsProvider() {
  return [](Context& c, const json& v, const FieldPath& p) {
    bool custom = has(v, "action") && v["action"] == "CUSTOM";
    if (custom && !has(v, "provider")) {
      c.error(p.field("provider"), "required when action is CUSTOM");
    } else if (!custom && has(v, "provider")) {
      c.error(p.field("provider"), "only allowed when action is CUSTOM");
    }
  };
}

}  // namespace

const Check& peerAuthenticationSpec() {
  static const Check check = object(
      {
          {"selector", selector()},
          {"mtls", mtls()},
          {"portLevelMtls", portKeyed(mtls())},
      },
      {needs("portLevelMtls", "selector")});
  return check;
}

const Check& authorizationPolicySpec() {
  static const Check source = object({
      {"principals", stringList()},
      {"notPrincipals", stringList()},
      {"requestPrincipals", stringList()},
      {"notRequestPrincipals", stringList()},
      {"namespaces", stringList()},
      {"notNamespaces", stringList()},
      {"ipBlocks", stringList()},
      {"notIpBlocks", stringList()},
      {"remoteIpBlocks", stringList()},
      {"notRemoteIpBlocks", stringList()},
      {"serviceAccounts", stringList()},
      {"notServiceAccounts", stringList()},
  });
  static const Check operation = object({
      {"hosts", stringList()},
      {"notHosts", stringList()},
      {"ports", listOf(portString())},
      {"notPorts", listOf(portString())},
      {"methods", stringList()},
      {"notMethods", stringList()},
      {"paths", stringList()},
      {"notPaths", stringList()},
  });
  static const Check condition = object(
      {
          {"key", nonEmptyString(), kRequired},
          {"values", stringList()},
          {"notValues", stringList()},
      },
      {oneOrMoreOf({"values", "notValues"})});
  static const Check rule = object({
      {"from", listOf(object({{"source", source, kRequired}}))},
      {"to", listOf(object({{"operation", operation, kRequired}}))},
      {"when", listOf(condition)},
  });
  static const Check check = object(
      {
          {"selector", selector()},
          {"targetRef", targetRef()},
          {"targetRefs", listOf(targetRef())},
          {"action", enumOf({"ALLOW", "DENY", "AUDIT", "CUSTOM"})},
          {"provider", object({{"name", nonEmptyString(), kRequired}})},
          {"rules", listOf(rule)},
      },
      {customNeedsProvider(), atMostOneOf({"selector", "targetRef", "targetRefs"})});
  return check;
}

const Check& requestAuthenticationSpec() {
  static const Check jwtRule = object(
      {
          {"issuer", nonEmptyString(), kRequired},
          {"audiences", stringList()},
          {"jwksUri", string()},
          {"jwks", string()},
          {"fromHeaders",
           listOf(object({{"name", nonEmptyString(), kRequired}, {"prefix", string()}}))},
          {"fromParams", stringList()},
          {"fromCookies", stringList()},
          {"outputPayloadToHeader", string()},
          {"forwardOriginalToken", boolean()},
          {"outputClaimToHeaders", listOf(object({{"header", nonEmptyString(), kRequired},
                                                  {"claim", nonEmptyString(), kRequired}}))},
          {"timeout", duration()},
      },
      {atMostOneOf({"jwks", "jwksUri"})});
  static const Check check = object(
      {
          {"selector", selector()},
          {"targetRef", targetRef()},
          {"targetRefs", listOf(targetRef())},
          {"jwtRules", listOf(jwtRule)},
      },
      {atMostOneOf({"selector", "targetRef", "targetRefs"})});
  return check;
}

}  // namespace mesh::core::config::detail
