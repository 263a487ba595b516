// PKCS#10 certificate signing requests: a workload asks the CA for a certificate carrying its
// SPIFFE id. The CA parses the request, checks its self-signature (proof that the requester
// holds the private key) and reads the requested URI SANs; it decides itself what to grant.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "core/tls/spiffe.h"
#include "core/tls/x509.h"

namespace mesh::core {

// A "CERTIFICATE REQUEST" PEM for `key`'s public key, subject CN=<commonName> (omitted when
// empty), with an extensionRequest holding subjectAltName URI:<id>. Signed with SHA-256.
Result<std::string> createCsrPem(const PrivateKey& key, const SpiffeId& id,
                                 const std::string& commonName = {});

struct CsrInfo {
  PublicKey publicKey;
  std::string subject;  // RFC 2253; may be empty
  std::vector<std::string> uriSans;
  std::vector<std::string> dnsSans;
};

// Parses one CSR PEM (at most 64 KiB) and verifies its signature with its own public key.
// Code::invalid for anything malformed or a bad signature.
Result<CsrInfo> parseCsrPem(std::string_view pem);

}  // namespace mesh::core
