#include "core/identity/base64url.h"

#include <openssl/base64.h>
#include <openssl/err.h>

#include <cstdint>

namespace mesh::core {

std::string base64UrlEncode(std::string_view in) {
  size_t len = 0;
  EVP_EncodedLength(&len, in.size());
  std::string out(len, '\0');
  size_t written = EVP_EncodeBlock(reinterpret_cast<uint8_t*>(out.data()),
                                   reinterpret_cast<const uint8_t*>(in.data()), in.size());
  out.resize(written);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

std::optional<std::string> base64UrlDecode(std::string_view in) {
  std::string b64(in);
  for (char& c : b64) {
    if (c == '+' || c == '/' || c == '=') return std::nullopt;
    c = c == '-' ? '+' : c == '_' ? '/' : c;
  }
  if (b64.size() % 4 == 1) return std::nullopt;
  while (b64.size() % 4 != 0) b64.push_back('=');
  size_t max = 0;
  if (!EVP_DecodedLength(&max, b64.size())) return std::nullopt;
  std::string out(max, '\0');
  size_t len = 0;
  if (!EVP_DecodeBase64(reinterpret_cast<uint8_t*>(out.data()), &len, max,
                        reinterpret_cast<const uint8_t*>(b64.data()), b64.size())) {
    ERR_clear_error();
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

}  // namespace mesh::core
