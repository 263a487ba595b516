#include "pilot/compile/gateway_credential.h"

#include <array>
#include <initializer_list>

namespace mesh::pilot {

namespace {

using core::config::Resource;

// Standard padded base64, which the config loader has already checked (the Secret kind's
// schema); anything else decodes to nothing.
std::optional<std::string> decodeBase64(const std::string& text) {
  static const std::array<int, 256> values = [] {
    std::array<int, 256> v{};
    v.fill(-1);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) v[static_cast<unsigned char>(alphabet[i])] = i;
    return v;
  }();
  std::string out;
  out.reserve(text.size() / 4 * 3);
  unsigned bits = 0;
  int count = 0;
  for (char c : text) {
    if (c == '=') break;
    int v = values[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<unsigned>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xff));
    }
  }
  return out;
}

const Resource* findSecret(const MeshView& view, const std::string& ns, const std::string& name) {
  for (const Resource* r : view.ofKind("Secret")) {
    if (r->ns == ns && r->name == name) return r;
  }
  return nullptr;
}

// The first of `keys` the Secret has: stringData as written, data decoded.
std::string entry(const Resource& secret, std::initializer_list<const char*> keys) {
  const auto& spec = secret.spec;
  for (const char* key : keys) {
    if (spec.contains("stringData") && spec["stringData"].contains(key) &&
        spec["stringData"][key].is_string()) {
      return spec["stringData"][key].get<std::string>();
    }
    if (spec.contains("data") && spec["data"].contains(key) && spec["data"][key].is_string()) {
      if (auto decoded = decodeBase64(spec["data"][key].get<std::string>())) return *decoded;
    }
  }
  return {};
}

}  // namespace

std::optional<GatewayCredential> findGatewayCredential(const MeshView& view, const std::string& ns,
                                                       const std::string& name) {
  const Resource* secret = findSecret(view, ns, name);
  if (secret == nullptr) return std::nullopt;
  GatewayCredential out;
  out.certificate = entry(*secret, {"tls.crt", "cert"});
  out.key = entry(*secret, {"tls.key", "key"});
  if (out.certificate.empty() || out.key.empty()) return std::nullopt;
  out.caCertificates = entry(*secret, {"ca.crt", "cacert"});
  if (out.caCertificates.empty()) {
    if (const Resource* ca = findSecret(view, ns, name + "-cacert")) {
      out.caCertificates = entry(*ca, {"ca.crt", "cacert"});
    }
  }
  return out;
}

}  // namespace mesh::pilot
