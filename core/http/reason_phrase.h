// Reason phrases for status codes (RFC 9110 section 15, plus the registered extras a proxy
// meets: 102, 103, 207, 208, 226, 421-429, 431, 451, 506-511).
#pragma once

#include <string_view>

namespace mesh::core::http {

// "" for a code without a registered phrase; a status line may carry an empty reason.
std::string_view reasonPhrase(int status);

}  // namespace mesh::core::http
