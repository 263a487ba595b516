// The admin port's /certs: the workload certificate and the trusted roots the proxy holds,
// as `mesh proxy-config secret` shows them. Serial numbers, validity and SPIFFE ids only;
// private keys never leave the process.
//
//   {"certificates": [
//     {"name": "default", "type": "Cert Chain", "serialNumber": "3F...",
//      "spiffeId": "spiffe://...",
//      "notBefore": "2026-11-26T00:00:00Z", "notAfter": "2026-11-27T00:00:00Z"},
//     {"name": "ROOTCA", "type": "CA", ...}]}
//
// A proxy without an identity (no CA configured, or no certificate yet) lists none.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/identity/ca_client.h"

namespace mesh::proxy {

nlohmann::json certsJson(const core::IssuedIdentity* identity);

// "2026-11-26T01:02:03Z"
std::string rfc3339(core::Clock::TimePoint t);

}  // namespace mesh::proxy
