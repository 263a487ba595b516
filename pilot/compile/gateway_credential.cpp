#include "pilot/compile/gateway_credential.h"

#include <initializer_list>

#include "core/base/base64.h"

namespace mesh::pilot {

namespace {

using core::config::Resource;

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
      if (auto decoded = core::decodeBase64(spec["data"][key].get<std::string>())) return *decoded;
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
