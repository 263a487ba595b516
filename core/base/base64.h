// Standard base64 (RFC 4648, section 4) with its padding, as Kubernetes stores a Secret's
// data: decoded strictly, so that the config check and the use of a value agree on it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mesh::core {

// nullopt unless `text` is whole groups of four from the standard alphabet, with '=' only as
// the last one or two characters.
std::optional<std::string> decodeBase64(std::string_view text);

}  // namespace mesh::core
