// Unpadded base64url (RFC 4648, section 5), the encoding of the parts of a bootstrap token.
// The CA signs tokens with it; a workload reads the identity its token names before asking.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mesh::core {

std::string base64UrlEncode(std::string_view bytes);
// nullopt for anything that is not unpadded base64url (standard-alphabet '+' '/' and '='
// padding included).
std::optional<std::string> base64UrlDecode(std::string_view text);

}  // namespace mesh::core
