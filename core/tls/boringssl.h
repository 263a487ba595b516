// core/tls is written against BoringSSL's API. A target that includes core/tls headers
// without depending on core_tls_dep would silently pick up the system OpenSSL headers from
// /usr/include/openssl and fail in confusing ways; this makes the cause plain.
#pragma once

#if !__has_include(<openssl/is_boringssl.h>)
#error "core/tls needs BoringSSL's headers: add core_tls_dep to this target's dependencies"
#endif

#include <openssl/base.h>
