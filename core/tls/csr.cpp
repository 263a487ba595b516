#include "core/tls/csr.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "core/tls/internal.h"

namespace mesh::core {

using namespace tls_internal;

namespace {
constexpr size_t kMaxCsrPem = 64 * 1024;
int noPassword(char*, int, int, void*) { return 0; }
}  // namespace

Result<std::string> createCsrPem(const PrivateKey& key, const SpiffeId& id,
                                 const std::string& commonName) {
  bssl::UniquePtr<X509_REQ> req(X509_REQ_new());
  if (!req || !X509_REQ_set_version(req.get(), X509_REQ_VERSION_1))
    return sslError(Code::internal, "new CSR");
  if (!commonName.empty()) {
    X509_NAME* name = X509_REQ_get_subject_name(req.get());
    if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                    reinterpret_cast<const uint8_t*>(commonName.data()),
                                    static_cast<int>(commonName.size()), -1, 0))
      return sslError(Code::invalid, "CSR subject");
  }
  PublicKey pub = key.publicKey();
  if (!X509_REQ_set_pubkey(req.get(), pub.get())) return sslError(Code::invalid, "CSR key");

  bssl::UniquePtr<GENERAL_NAMES> names(sk_GENERAL_NAME_new_null());
  bssl::UniquePtr<GENERAL_NAME> gn(GENERAL_NAME_new());
  bssl::UniquePtr<ASN1_IA5STRING> uri(ASN1_IA5STRING_new());
  std::string text = id.toString();
  if (!names || !gn || !uri ||
      !ASN1_STRING_set(uri.get(), text.data(), static_cast<int>(text.size())))
    return sslError(Code::internal, "CSR subjectAltName");
  GENERAL_NAME_set0_value(gn.get(), GEN_URI, uri.release());
  if (!bssl::PushToStack(names.get(), std::move(gn)))
    return sslError(Code::internal, "CSR subjectAltName");
  bssl::UniquePtr<STACK_OF(X509_EXTENSION)> exts(sk_X509_EXTENSION_new_null());
  // Critical when the subject is empty (RFC 5280 4.2.1.6).
  int critical = commonName.empty() ? 1 : 0;
  bssl::UniquePtr<X509_EXTENSION> san(X509V3_EXT_i2d(NID_subject_alt_name, critical, names.get()));
  if (!exts || !san || !bssl::PushToStack(exts.get(), std::move(san)) ||
      !X509_REQ_add_extensions(req.get(), exts.get()))
    return sslError(Code::internal, "CSR extensions");

  if (!X509_REQ_sign(req.get(), key.get(), EVP_sha256()))
    return sslError(Code::internal, "sign CSR");
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || !PEM_write_bio_X509_REQ(bio.get(), req.get()))
    return sslError(Code::internal, "CSR PEM");
  return bioContents(bio.get());
}

Result<CsrInfo> parseCsrPem(std::string_view pem) {
  if (pem.size() > kMaxCsrPem) return error(Code::too_large, "CSR larger than 64 KiB");
  auto bio = readBio(pem);
  bssl::UniquePtr<X509_REQ> req(PEM_read_bio_X509_REQ(bio.get(), nullptr, noPassword, nullptr));
  if (!req) return sslError(Code::invalid, "CSR PEM");
  bssl::UniquePtr<EVP_PKEY> key(X509_REQ_get_pubkey(req.get()));
  if (!key) return sslError(Code::invalid, "CSR public key");
  if (X509_REQ_verify(req.get(), key.get()) != 1) return sslError(Code::invalid, "CSR signature");

  CsrInfo info{PublicKey(std::move(key)), {}, {}, {}};
  bssl::UniquePtr<BIO> name(BIO_new(BIO_s_mem()));
  if (name &&
      X509_NAME_print_ex(name.get(), X509_REQ_get_subject_name(req.get()), 0, XN_FLAG_RFC2253) >= 0)
    info.subject = bioContents(name.get());

  bssl::UniquePtr<STACK_OF(X509_EXTENSION)> exts(X509_REQ_get_extensions(req.get()));
  ERR_clear_error();  // no extensionRequest is not an error
  if (exts) {
    for (size_t i = 0; i < sk_X509_EXTENSION_num(exts.get()); ++i) {
      X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts.get(), i);
      if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_subject_alt_name) continue;
      bssl::UniquePtr<GENERAL_NAMES> names(static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext)));
      if (!names) return sslError(Code::invalid, "CSR subjectAltName");
      for (size_t j = 0; j < sk_GENERAL_NAME_num(names.get()); ++j) {
        const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), j);
        if (gn->type != GEN_URI && gn->type != GEN_DNS) continue;
        const ASN1_IA5STRING* s =
            gn->type == GEN_URI ? gn->d.uniformResourceIdentifier : gn->d.dNSName;
        std::string value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                          static_cast<size_t>(ASN1_STRING_length(s)));
        (gn->type == GEN_URI ? info.uriSans : info.dnsSans).push_back(std::move(value));
      }
    }
  }
  return info;
}

}  // namespace mesh::core
