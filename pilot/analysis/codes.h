// The catalog of message types mesh analyze can report: Istio's IST0xxx codes with the same
// names and levels, so that users' --suppress lists and CI greps carry over. The types are
// constants with static storage; messages point at them.
#pragma once

#include <vector>

#include "pilot/analysis/message.h"

namespace mesh::pilot::analysis::codes {

extern const MessageType kInternalError;                      // IST0001
extern const MessageType kDeprecated;                         // IST0002
extern const MessageType kReferencedResourceNotFound;         // IST0101
extern const MessageType kNamespaceNotInjected;               // IST0102
extern const MessageType kPodMissingProxy;                    // IST0103
extern const MessageType kSchemaValidationError;              // IST0106
extern const MessageType kMisplacedAnnotation;                // IST0107
extern const MessageType kUnknownAnnotation;                  // IST0108
extern const MessageType kConflictingMeshGatewayVirtualServiceHosts;  // IST0109
extern const MessageType kVirtualServiceDestinationPortSelectorRequired;  // IST0112
extern const MessageType kDeploymentAssociatedToMultipleServices;  // IST0116
extern const MessageType kPortNameIsNotUnderNamingConvention;  // IST0118
extern const MessageType kNamespaceMultipleInjectionLabels;   // IST0123
extern const MessageType kInvalidAnnotation;                  // IST0125
extern const MessageType kNoMatchingWorkloadsFound;           // IST0127
extern const MessageType kNoServerCertificateVerificationDestinationLevel;  // IST0128
extern const MessageType kNoServerCertificateVerificationPortLevel;  // IST0129
extern const MessageType kVirtualServiceUnreachableRule;      // IST0130
extern const MessageType kVirtualServiceIneffectiveMatch;     // IST0131
extern const MessageType kVirtualServiceHostNotFoundInGateway;  // IST0132
extern const MessageType kServiceEntryAddressesRequired;      // IST0134
extern const MessageType kDeprecatedAnnotation;               // IST0135
extern const MessageType kAlphaAnnotation;                    // IST0136
extern const MessageType kDeploymentConflictingPorts;         // IST0137
extern const MessageType kGatewayDuplicateCertificate;        // IST0138
extern const MessageType kIngressRouteRulesNotAffected;       // IST0140
extern const MessageType kInvalidApplicationUID;              // IST0144
extern const MessageType kConflictingGateways;                // IST0145
extern const MessageType kImageAutoWithoutInjectionWarning;   // IST0146
extern const MessageType kImageAutoWithoutInjectionError;     // IST0147
extern const MessageType kNamespaceInjectionEnabledByDefault;  // IST0148
extern const MessageType kJwtClaimBasedRoutingWithoutRequestAuthN;  // IST0149
extern const MessageType kExternalNameServiceTypeInvalidPortName;  // IST0150
extern const MessageType kGatewayPortNotDefinedOnService;     // IST0162
extern const MessageType kReferencedInternalGateway;          // IST0165
extern const MessageType kDestinationRuleSubsetNotSelectPods;  // IST0173
extern const MessageType kUnknownDestinationRuleHost;         // IST0174
extern const MessageType kConflictingServiceEntryProtocol;    // IST0177

// Every type above, ordered by code.
const std::vector<const MessageType*>& all();
// nullptr for a code this build does not know.
const MessageType* byCode(std::string_view code);

}  // namespace mesh::pilot::analysis::codes
