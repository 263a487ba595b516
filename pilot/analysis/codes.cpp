#include "pilot/analysis/codes.h"

#include <algorithm>

namespace mesh::pilot::analysis::codes {

using L = Level;

const MessageType kInternalError{"IST0001", "InternalError", L::error,
                                 "mesh analyze itself failed on this input"};
const MessageType kDeprecated{"IST0002", "Deprecated", L::warning,
                              "a field that Istio has deprecated is in use"};
const MessageType kReferencedResourceNotFound{
    "IST0101", "ReferencedResourceNotFound", L::error,
    "a referenced host, subset, port, gateway, secret or selector does not exist"};
const MessageType kNamespaceNotInjected{"IST0102", "NamespaceNotInjected", L::info,
                                        "a namespace with workloads has no injection label"};
const MessageType kPodMissingProxy{"IST0103", "PodMissingProxy", L::warning,
                                   "a pod in an injected namespace has no sidecar"};
const MessageType kSchemaValidationError{
    "IST0106", "SchemaValidationError", L::error,
    "the resource does not conform to its schema (fields, types, enums, values)"};
const MessageType kMisplacedAnnotation{"IST0107", "MisplacedAnnotation", L::warning,
                                       "an Istio annotation is on a kind it does not apply to"};
const MessageType kUnknownAnnotation{"IST0108", "UnknownAnnotation", L::warning,
                                     "an annotation in an istio.io domain that Istio does not define"};
const MessageType kConflictingMeshGatewayVirtualServiceHosts{
    "IST0109", "ConflictingMeshGatewayVirtualServiceHosts", L::error,
    "several VirtualServices bound to the mesh gateway define the same host"};
const MessageType kVirtualServiceDestinationPortSelectorRequired{
    "IST0112", "VirtualServiceDestinationPortSelectorRequired", L::error,
    "a route to a service with several ports does not say which port"};
const MessageType kDeploymentAssociatedToMultipleServices{
    "IST0116", "DeploymentAssociatedToMultipleServices", L::warning,
    "services selecting one deployment use one port number with different protocols"};
const MessageType kPortNameIsNotUnderNamingConvention{
    "IST0118", "PortNameIsNotUnderNamingConvention", L::info,
    "a service port name does not say its protocol (<protocol>[-<suffix>])"};
const MessageType kNamespaceMultipleInjectionLabels{
    "IST0123", "NamespaceMultipleInjectionLabels", L::warning,
    "a namespace has both istio-injection and istio.io/rev labels"};
const MessageType kInvalidAnnotation{"IST0125", "InvalidAnnotation", L::warning,
                                     "an Istio annotation has a value it does not accept"};
const MessageType kNoMatchingWorkloadsFound{
    "IST0127", "NoMatchingWorkloadsFound", L::warning,
    "a policy's workload selector matches no pod"};
const MessageType kNoServerCertificateVerificationDestinationLevel{
    "IST0128", "NoServerCertificateVerificationDestinationLevel", L::warning,
    "SIMPLE or MUTUAL TLS to a destination without caCertificates"};
const MessageType kNoServerCertificateVerificationPortLevel{
    "IST0129", "NoServerCertificateVerificationPortLevel", L::warning,
    "SIMPLE or MUTUAL TLS on a port without caCertificates"};
const MessageType kVirtualServiceUnreachableRule{
    "IST0130", "VirtualServiceUnreachableRule", L::warning,
    "a route can never be reached because an earlier one matches everything"};
const MessageType kVirtualServiceIneffectiveMatch{
    "IST0131", "VirtualServiceIneffectiveMatch", L::info,
    "a match is never used because an earlier match covers it"};
const MessageType kVirtualServiceHostNotFoundInGateway{
    "IST0132", "VirtualServiceHostNotFoundInGateway", L::warning,
    "a VirtualService host is not served by the gateway it is bound to"};
const MessageType kServiceEntryAddressesRequired{
    "IST0134", "ServiceEntryAddressesRequired", L::warning,
    "a ServiceEntry with a TCP-level port has no addresses"};
const MessageType kDeprecatedAnnotation{"IST0135", "DeprecatedAnnotation", L::info,
                                        "a deprecated Istio annotation is in use"};
const MessageType kAlphaAnnotation{"IST0136", "AlphaAnnotation", L::info,
                                   "an alpha-phase Istio annotation is in use (not by default)"};
const MessageType kDeploymentConflictingPorts{
    "IST0137", "DeploymentConflictingPorts", L::warning,
    "services selecting one deployment map one targetPort from different ports"};
const MessageType kGatewayDuplicateCertificate{
    "IST0138", "GatewayDuplicateCertificate", L::warning,
    "several gateways use the same TLS certificate"};
const MessageType kIngressRouteRulesNotAffected{
    "IST0140", "IngressRouteRulesNotAffected", L::warning,
    "a subset in a route of an ingress VirtualService has no effect"};
const MessageType kInvalidApplicationUID{"IST0144", "InvalidApplicationUID", L::warning,
                                         "a workload runs as UID 1337, reserved for the sidecar"};
const MessageType kConflictingGateways{
    "IST0145", "ConflictingGateways", L::error,
    "gateways on the same workload and port claim the same host"};
const MessageType kImageAutoWithoutInjectionWarning{
    "IST0146", "ImageAutoWithoutInjectionWarning", L::warning,
    "a Deployment uses image: auto but injection is not enabled for it"};
const MessageType kImageAutoWithoutInjectionError{
    "IST0147", "ImageAutoWithoutInjectionError", L::error,
    "a Pod uses image: auto but injection is not enabled for it"};
const MessageType kNamespaceInjectionEnabledByDefault{
    "IST0148", "NamespaceInjectionEnabledByDefault", L::info,
    "injection is enabled by default for a namespace without labels"};
const MessageType kJwtClaimBasedRoutingWithoutRequestAuthN{
    "IST0149", "JwtClaimBasedRoutingWithoutRequestAuthN", L::error,
    "a route matches on a JWT claim but no RequestAuthentication covers the gateway"};
const MessageType kExternalNameServiceTypeInvalidPortName{
    "IST0150", "ExternalNameServiceTypeInvalidPortName", L::warning,
    "an ExternalName service port name does not say its protocol"};
const MessageType kGatewayPortNotDefinedOnService{
    "IST0162", "GatewayPortNotDefinedOnService", L::warning,
    "a gateway listens on a port that no Service of its workload exposes"};
const MessageType kReferencedInternalGateway{
    "IST0165", "ReferencedInternalGateway", L::warning,
    "a VirtualService binds to a gateway generated for the Kubernetes Gateway API"};
const MessageType kDestinationRuleSubsetNotSelectPods{
    "IST0173", "DestinationRuleSubsetNotSelectPods", L::error,
    "a DestinationRule subset's labels select no pod"};
const MessageType kUnknownDestinationRuleHost{
    "IST0174", "UnknownDestinationRuleHost", L::warning,
    "a DestinationRule's host is no known service"};
const MessageType kConflictingServiceEntryProtocol{
    "IST0177", "ConflictingServiceEntryProtocol", L::warning,
    "ServiceEntries give one host and port different protocols"};

const std::vector<const MessageType*>& all() {
  static const std::vector<const MessageType*> types = [] {
    std::vector<const MessageType*> v = {
        &kInternalError, &kDeprecated, &kReferencedResourceNotFound, &kNamespaceNotInjected,
        &kPodMissingProxy, &kSchemaValidationError, &kMisplacedAnnotation, &kUnknownAnnotation,
        &kConflictingMeshGatewayVirtualServiceHosts,
        &kVirtualServiceDestinationPortSelectorRequired,
        &kDeploymentAssociatedToMultipleServices, &kPortNameIsNotUnderNamingConvention,
        &kNamespaceMultipleInjectionLabels, &kInvalidAnnotation, &kNoMatchingWorkloadsFound,
        &kNoServerCertificateVerificationDestinationLevel,
        &kNoServerCertificateVerificationPortLevel, &kVirtualServiceUnreachableRule,
        &kVirtualServiceIneffectiveMatch, &kVirtualServiceHostNotFoundInGateway,
        &kServiceEntryAddressesRequired, &kDeprecatedAnnotation, &kAlphaAnnotation,
        &kDeploymentConflictingPorts, &kGatewayDuplicateCertificate,
        &kIngressRouteRulesNotAffected, &kInvalidApplicationUID, &kConflictingGateways,
        &kImageAutoWithoutInjectionWarning, &kImageAutoWithoutInjectionError,
        &kNamespaceInjectionEnabledByDefault, &kJwtClaimBasedRoutingWithoutRequestAuthN,
        &kExternalNameServiceTypeInvalidPortName, &kGatewayPortNotDefinedOnService,
        &kReferencedInternalGateway, &kDestinationRuleSubsetNotSelectPods,
        &kUnknownDestinationRuleHost, &kConflictingServiceEntryProtocol};
    std::sort(v.begin(), v.end(),
              [](const MessageType* a, const MessageType* b) { return a->code < b->code; });
    return v;
  }();
  return types;
}

const MessageType* byCode(std::string_view code) {
  for (const MessageType* t : all()) {
    if (t->code == code) return t;
  }
  return nullptr;
}

}  // namespace mesh::pilot::analysis::codes
