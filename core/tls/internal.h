// Helpers shared by the core/tls sources; not part of the public API.
#pragma once

#include <openssl/asn1.h>
#include <openssl/bio.h>

#include <string>
#include <string_view>

#include "core/base/clock.h"
#include "core/base/status.h"

namespace mesh::core::tls_internal {

// Drains BoringSSL's error queue into one readable phrase from its first (root-cause) entry:
// "CERTIFICATE_VERIFY_FAILED" becomes "certificate verify failed". `fallback` when empty.
std::string drainErrors(std::string_view fallback);
// "tlsv1 alert unknown ca" style reasons turned into "peer sent alert: unknown ca".
std::string readableReason(const char* reason);

inline Status sslError(Code code, std::string_view what) {
  return error(code, std::string(what) + ": " + drainErrors("unknown error"));
}

// A read-only memory BIO over `data` (which must outlive it).
bssl::UniquePtr<BIO> readBio(std::string_view data);
// Everything written to a memory BIO.
std::string bioContents(BIO* bio);

Clock::TimePoint toTimePoint(const ASN1_TIME* t);
bssl::UniquePtr<ASN1_TIME> toAsn1Time(Clock::TimePoint t);

}  // namespace mesh::core::tls_internal
