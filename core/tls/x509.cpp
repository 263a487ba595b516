#include "core/tls/x509.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/bytestring.h>
#include <openssl/digest.h>
#include <openssl/ec.h>
#include <openssl/ec_key.h>
#include <openssl/err.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>

#include "core/tls/internal.h"

namespace mesh::core {

using namespace tls_internal;

namespace {

// PEM password callback that refuses: encrypted keys are not supported, and BoringSSL must
// never prompt on a terminal.
int noPassword(char*, int, int, void*) { return 0; }

bssl::UniquePtr<EVP_PKEY> upRef(EVP_PKEY* key) {
  EVP_PKEY_up_ref(key);
  return bssl::UniquePtr<EVP_PKEY>(key);
}

bssl::UniquePtr<X509> upRef(X509* cert) {
  X509_up_ref(cert);
  return bssl::UniquePtr<X509>(cert);
}

std::string hex(const uint8_t* data, size_t len, bool upper) {
  static const char* lowerDigits = "0123456789abcdef";
  static const char* upperDigits = "0123456789ABCDEF";
  const char* digits = upper ? upperDigits : lowerDigits;
  std::string out;
  out.reserve(len * 2);
  for (size_t i = 0; i < len; ++i) {
    out.push_back(digits[data[i] >> 4]);
    out.push_back(digits[data[i] & 0xf]);
  }
  return out;
}

std::string nameToString(const X509_NAME* name) {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
    ERR_clear_error();
    return {};
  }
  return bioContents(bio.get());
}

// The SAN entries of one GEN_* type as strings.
std::vector<std::string> sanEntries(const X509* cert, int type) {
  std::vector<std::string> out;
  bssl::UniquePtr<GENERAL_NAMES> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  ERR_clear_error();
  if (!names) return out;
  for (size_t i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type != type) continue;
    const ASN1_IA5STRING* s = type == GEN_URI ? gn->d.uniformResourceIdentifier : gn->d.dNSName;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
  }
  return out;
}

Status addNameEntry(X509_NAME* name, const char* field, const std::string& value) {
  if (value.empty()) return {};
  if (!X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                  reinterpret_cast<const uint8_t*>(value.data()),
                                  static_cast<int>(value.size()), -1, 0))
    return sslError(Code::invalid, std::string("subject ") + field);
  return {};
}

// Adds one extension given in OpenSSL's configuration syntax (constant strings only: no
// caller data goes through the config parser).
Status addConfExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  bssl::UniquePtr<X509_EXTENSION> ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value));
  if (!ext || !X509_add_ext(cert, ext.get(), -1))
    return sslError(Code::internal, std::string("certificate extension ") + OBJ_nid2sn(nid));
  return {};
}

}  // namespace

// ---- PublicKey ----

PublicKey::PublicKey(bssl::UniquePtr<EVP_PKEY> key) : key_(std::move(key)) {}
PublicKey::PublicKey(const PublicKey& other) : key_(upRef(other.key_.get())) {}
PublicKey& PublicKey::operator=(const PublicKey& other) {
  if (this != &other) key_ = upRef(other.key_.get());
  return *this;
}

Result<PublicKey> PublicKey::fromPem(std::string_view pem) {
  auto bio = readBio(pem);
  bssl::UniquePtr<EVP_PKEY> key(PEM_read_bio_PUBKEY(bio.get(), nullptr, noPassword, nullptr));
  if (!key) return sslError(Code::invalid, "public key PEM");
  return PublicKey(std::move(key));
}

std::string PublicKey::toPem() const {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_PUBKEY(bio.get(), key_.get())) {
    ERR_clear_error();
    return {};
  }
  return bioContents(bio.get());
}

std::string PublicKey::toDer() const {
  uint8_t* der = nullptr;
  int len = i2d_PUBKEY(key_.get(), &der);
  if (len <= 0) {
    ERR_clear_error();
    return {};
  }
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

bool operator==(const PublicKey& a, const PublicKey& b) {
  return EVP_PKEY_cmp(a.key_.get(), b.key_.get()) == 1;
}

// ---- PrivateKey ----

PrivateKey::PrivateKey(bssl::UniquePtr<EVP_PKEY> key) : key_(std::move(key)) {}
PrivateKey::PrivateKey(const PrivateKey& other) : key_(upRef(other.key_.get())) {}
PrivateKey& PrivateKey::operator=(const PrivateKey& other) {
  if (this != &other) key_ = upRef(other.key_.get());
  return *this;
}

Result<PrivateKey> PrivateKey::generateP256() {
  bssl::UniquePtr<EC_KEY> ec(EC_KEY_new_by_curve_name(NID_X9_62_prime256v1));
  bssl::UniquePtr<EVP_PKEY> key(EVP_PKEY_new());
  if (!ec || !key || !EC_KEY_generate_key(ec.get()) || !EVP_PKEY_assign_EC_KEY(key.get(), ec.get()))
    return sslError(Code::internal, "generate P-256 key");
  ec.release();  // owned by `key` now
  return PrivateKey(std::move(key));
}

Result<PrivateKey> PrivateKey::fromPem(std::string_view pem) {
  auto bio = readBio(pem);
  bssl::UniquePtr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassword, nullptr));
  // The reason names the problem ("no start line", "bad decrypt"); it never quotes the input.
  if (!key) return sslError(Code::invalid, "private key PEM");
  return PrivateKey(std::move(key));
}

std::string PrivateKey::toPem() const {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_PKCS8PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr,
                                     nullptr)) {
    ERR_clear_error();
    return {};
  }
  std::string out = bioContents(bio.get());
  return out;  // the BIO's buffer is zeroed by BoringSSL's allocator when freed
}

PublicKey PrivateKey::publicKey() const {
  // Re-encode only the public half, so the PublicKey never holds private material.
  uint8_t* der = nullptr;
  int len = i2d_PUBKEY(key_.get(), &der);
  const uint8_t* p = der;
  bssl::UniquePtr<EVP_PKEY> pub(len > 0 ? d2i_PUBKEY(nullptr, &p, len) : nullptr);
  OPENSSL_free(der);
  if (!pub) {  // cannot happen for a key we hold; fall back to sharing the object
    ERR_clear_error();
    return PublicKey(upRef(key_.get()));
  }
  return PublicKey(std::move(pub));
}

// ---- Certificate ----

Certificate::Certificate(bssl::UniquePtr<X509> cert) : cert_(std::move(cert)) {}
Certificate::Certificate(const Certificate& other) : cert_(upRef(other.cert_.get())) {}
Certificate& Certificate::operator=(const Certificate& other) {
  if (this != &other) cert_ = upRef(other.cert_.get());
  return *this;
}

Result<Certificate> Certificate::fromPem(std::string_view pem) {
  auto bio = readBio(pem);
  bssl::UniquePtr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, noPassword, nullptr));
  if (!cert) return sslError(Code::invalid, "certificate PEM");
  return Certificate(std::move(cert));
}

Result<Certificate> Certificate::fromDer(std::string_view der) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(der.data());
  bssl::UniquePtr<X509> cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) return sslError(Code::invalid, "certificate DER");
  if (p != reinterpret_cast<const uint8_t*>(der.data()) + der.size())
    return error(Code::invalid, "certificate DER: trailing data");
  return Certificate(std::move(cert));
}

std::string Certificate::toPem() const {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_X509(bio.get(), cert_.get())) {
    ERR_clear_error();
    return {};
  }
  return bioContents(bio.get());
}

std::string Certificate::toDer() const {
  uint8_t* der = nullptr;
  int len = i2d_X509(cert_.get(), &der);
  if (len <= 0) {
    ERR_clear_error();
    return {};
  }
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

std::string Certificate::subject() const {
  return nameToString(X509_get_subject_name(cert_.get()));
}
std::string Certificate::issuer() const { return nameToString(X509_get_issuer_name(cert_.get())); }

std::string Certificate::commonName() const {
  const X509_NAME* name = X509_get_subject_name(cert_.get());
  int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return {};
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  uint8_t* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) {
    ERR_clear_error();
    return {};
  }
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

std::string Certificate::serialHex() const {
  bssl::UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert_.get()), nullptr));
  if (!bn) {
    ERR_clear_error();
    return {};
  }
  char* h = BN_bn2hex(bn.get());
  std::string out = h ? h : "";
  OPENSSL_free(h);
  return out;
}

Clock::TimePoint Certificate::notBefore() const {
  return toTimePoint(X509_get0_notBefore(cert_.get()));
}
Clock::TimePoint Certificate::notAfter() const {
  return toTimePoint(X509_get0_notAfter(cert_.get()));
}

bool Certificate::isCa() const {
  bool ca = (X509_get_extension_flags(cert_.get()) & EXFLAG_CA) != 0;
  ERR_clear_error();
  return ca;
}

std::vector<std::string> Certificate::uriSans() const { return sanEntries(cert_.get(), GEN_URI); }
std::vector<std::string> Certificate::dnsSans() const { return sanEntries(cert_.get(), GEN_DNS); }

Result<SpiffeId> Certificate::spiffeId() const {
  std::vector<std::string> spiffe;
  for (auto& uri : uriSans())
    if (uri.rfind("spiffe://", 0) == 0) spiffe.push_back(uri);
  if (spiffe.empty()) return error(Code::denied, "certificate has no SPIFFE URI SAN");
  if (spiffe.size() > 1) return error(Code::denied, "certificate has several SPIFFE URI SANs");
  auto id = SpiffeId::parse(spiffe[0]);
  if (!id) return error(Code::denied, id.status().message());
  return id;
}

PublicKey Certificate::publicKey() const {
  return PublicKey(bssl::UniquePtr<EVP_PKEY>(X509_get_pubkey(cert_.get())));
}

bool Certificate::matches(const PrivateKey& key) const {
  bool ok = X509_check_private_key(cert_.get(), key.get()) == 1;
  ERR_clear_error();
  return ok;
}

std::string Certificate::sha256Fingerprint() const {
  uint8_t md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (!X509_digest(cert_.get(), EVP_sha256(), md, &len)) {
    ERR_clear_error();
    return {};
  }
  return hex(md, len, false);
}

bool operator==(const Certificate& a, const Certificate& b) {
  return X509_cmp(a.cert_.get(), b.cert_.get()) == 0;
}

// ---- lists and files ----

Result<CertificateList> parseCertificatesPem(std::string_view pem) {
  auto bio = readBio(pem);
  CertificateList certs;
  for (;;) {
    char* name = nullptr;
    char* header = nullptr;
    uint8_t* data = nullptr;
    long len = 0;
    if (!PEM_read_bio(bio.get(), &name, &header, &data, &len)) {
      uint32_t err = ERR_peek_last_error();
      if (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE) {
        ERR_clear_error();  // end of input
        break;
      }
      return sslError(Code::invalid, "certificate PEM");
    }
    bool isCert = std::strcmp(name, "CERTIFICATE") == 0;
    std::string der;
    if (isCert) der.assign(reinterpret_cast<const char*>(data), static_cast<size_t>(len));
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);  // zeroed on free: it may have been a private key block
    if (!isCert) continue;
    auto cert = Certificate::fromDer(der);
    if (!cert) return cert.status();
    certs.push_back(std::move(*cert));
  }
  if (certs.empty()) return error(Code::invalid, "no CERTIFICATE block in PEM");
  return certs;
}

std::string certificatesToPem(const CertificateList& certs) {
  std::string out;
  for (auto& c : certs) out += c.toPem();
  return out;
}

Result<std::string> readFileBounded(const std::string& path, size_t maxBytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    Code code = errno == ENOENT ? Code::not_found : Code::unavailable;
    return error(code, path + ": " + std::strerror(errno));
  }
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return error(Code::unavailable, path + ": " + std::strerror(e));
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > maxBytes) {
      ::close(fd);
      return error(Code::too_large, path + ": larger than " + std::to_string(maxBytes) + " bytes");
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Result<CertificateList> loadCertificatesFile(const std::string& path) {
  auto text = readFileBounded(path);
  if (!text) return text.status();
  auto certs = parseCertificatesPem(*text);
  if (!certs) return error(certs.status().code(), path + ": " + certs.status().message());
  return certs;
}

Result<PrivateKey> loadPrivateKeyFile(const std::string& path) {
  auto text = readFileBounded(path);
  if (!text) return text.status();
  auto key = PrivateKey::fromPem(*text);
  OPENSSL_cleanse(text->data(), text->size());
  if (!key) return error(key.status().code(), path + ": " + key.status().message());
  return key;
}

Status writeFileAtomic(const std::string& path, std::string_view content, unsigned mode) {
  std::string tmpl = path + ".tmp.XXXXXX";
  int fd = ::mkstemp(tmpl.data());  // created 0600, before any byte is written
  if (fd < 0) return error(Code::unavailable, path + ": " + std::strerror(errno));
  auto fail = [&](int e) {
    ::close(fd);
    ::unlink(tmpl.c_str());
    return error(Code::unavailable, path + ": " + std::strerror(e));
  };
  if (::fchmod(fd, mode) != 0) return fail(errno);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail(errno);
  if (::close(fd) != 0) {
    int e = errno;
    ::unlink(tmpl.c_str());
    return error(Code::unavailable, path + ": " + std::strerror(e));
  }
  if (::rename(tmpl.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmpl.c_str());
    return error(Code::unavailable, path + ": " + std::strerror(e));
  }
  return {};
}

Status writePrivateKeyFile(const std::string& path, const PrivateKey& key) {
  std::string pem = key.toPem();
  if (pem.empty()) return error(Code::internal, "cannot encode private key");
  Status s = writeFileAtomic(path, pem, 0600);
  OPENSSL_cleanse(pem.data(), pem.size());
  return s;
}

Status writeCertificatesFile(const std::string& path, const CertificateList& certs) {
  return writeFileAtomic(path, certificatesToPem(certs), 0644);
}

// ---- building ----

namespace {

Result<bssl::UniquePtr<X509>> newCertificate(const CertificateTemplate& tmpl,
                                             const PublicKey& subjectKey) {
  if (tmpl.notAfter <= tmpl.notBefore)
    return error(Code::invalid, "certificate validity: notAfter must be after notBefore");
  if (tmpl.commonName.empty() && !tmpl.spiffeId)
    return error(Code::invalid, "certificate needs a common name or a SPIFFE id");
  bssl::UniquePtr<X509> cert(X509_new());
  if (!cert || !X509_set_version(cert.get(), X509_VERSION_3))
    return sslError(Code::internal, "new certificate");

  // Serial: 128 random bits with the top bit clear, so the INTEGER is positive and 16 bytes
  // at most (RFC 5280 allows 20 octets).
  uint8_t serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  serial[0] |= 0x01;  // never zero, never leading-zero-short
  bssl::UniquePtr<BIGNUM> bn(BN_bin2bn(serial, sizeof serial, nullptr));
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())))
    return sslError(Code::internal, "certificate serial");

  auto nb = toAsn1Time(tmpl.notBefore);
  auto na = toAsn1Time(tmpl.notAfter);
  if (!nb || !na || !X509_set1_notBefore(cert.get(), nb.get()) ||
      !X509_set1_notAfter(cert.get(), na.get()))
    return sslError(Code::invalid, "certificate validity");

  X509_NAME* subject = X509_get_subject_name(cert.get());
  if (Status s = addNameEntry(subject, "O", tmpl.organization); !s) return s;
  if (Status s = addNameEntry(subject, "CN", tmpl.commonName); !s) return s;
  if (!X509_set_pubkey(cert.get(), subjectKey.get()))
    return sslError(Code::invalid, "certificate public key");
  return cert;
}

Status addCaOrLeafExtensions(X509* cert, X509* issuer, const CertificateTemplate& tmpl) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  if (tmpl.isCa) {
    std::string bc = "critical,CA:TRUE";
    if (tmpl.maxPathLength >= 0) bc += ",pathlen:" + std::to_string(tmpl.maxPathLength);
    if (Status s = addConfExtension(cert, &ctx, NID_basic_constraints, bc.c_str()); !s) return s;
    if (Status s = addConfExtension(cert, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign"); !s)
      return s;
  } else {
    if (Status s = addConfExtension(cert, &ctx, NID_basic_constraints, "critical,CA:FALSE"); !s)
      return s;
    if (Status s = addConfExtension(cert, &ctx, NID_key_usage,
                                    "critical,digitalSignature,keyEncipherment");
        !s)
      return s;
    if (Status s = addConfExtension(cert, &ctx, NID_ext_key_usage, "serverAuth,clientAuth"); !s)
      return s;
  }
  if (Status s = addConfExtension(cert, &ctx, NID_subject_key_identifier, "hash"); !s) return s;
  if (issuer != cert) {
    if (Status s = addConfExtension(cert, &ctx, NID_authority_key_identifier, "keyid:always"); !s)
      return s;
  }

  // Subject alternative names are built as objects, so no caller text passes through the
  // configuration-string parser.
  if (tmpl.spiffeId || !tmpl.dnsNames.empty()) {
    bssl::UniquePtr<GENERAL_NAMES> names(sk_GENERAL_NAME_new_null());
    auto add = [&](int type, const std::string& value) -> bool {
      bssl::UniquePtr<GENERAL_NAME> gn(GENERAL_NAME_new());
      bssl::UniquePtr<ASN1_IA5STRING> str(ASN1_IA5STRING_new());
      if (!gn || !str || !ASN1_STRING_set(str.get(), value.data(), static_cast<int>(value.size())))
        return false;
      GENERAL_NAME_set0_value(gn.get(), type, str.release());
      if (!bssl::PushToStack(names.get(), std::move(gn))) return false;
      return true;
    };
    if (!names) return sslError(Code::internal, "subjectAltName");
    if (tmpl.spiffeId && !add(GEN_URI, tmpl.spiffeId->toString()))
      return sslError(Code::internal, "subjectAltName");
    for (auto& dns : tmpl.dnsNames) {
      if (dns.empty() || dns.find_first_of(" \t\r\n,") != std::string::npos)
        return error(Code::invalid, "invalid DNS name '" + dns + "'");
      if (!add(GEN_DNS, dns)) return sslError(Code::internal, "subjectAltName");
    }
    // Critical when the subject is empty, as RFC 5280 requires.
    int critical = tmpl.commonName.empty() && tmpl.organization.empty() ? 1 : 0;
    if (!X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), critical, X509V3_ADD_DEFAULT))
      return sslError(Code::internal, "subjectAltName");
  }
  return {};
}

}  // namespace

Result<Certificate> createSelfSigned(const CertificateTemplate& tmpl, const PrivateKey& key) {
  if (!tmpl.isCa) return error(Code::invalid, "a self-signed certificate here is a CA: set isCa");
  auto cert = newCertificate(tmpl, key.publicKey());
  if (!cert) return cert.status();
  X509* x = cert->get();
  if (!X509_set_issuer_name(x, X509_get_subject_name(x)))
    return sslError(Code::internal, "issuer name");
  if (Status s = addCaOrLeafExtensions(x, x, tmpl); !s) return s;
  if (!X509_sign(x, key.get(), EVP_sha256())) return sslError(Code::internal, "sign certificate");
  return Certificate(std::move(*cert));
}

Result<Certificate> signCertificate(const CertificateTemplate& tmpl, const PublicKey& subjectKey,
                                    const Certificate& issuer, const PrivateKey& issuerKey) {
  if (!issuer.isCa()) return error(Code::invalid, "issuer certificate is not a CA");
  if (!issuer.matches(issuerKey))
    return error(Code::invalid, "issuer key does not match the issuer certificate");
  if (!tmpl.isCa && !tmpl.spiffeId && tmpl.dnsNames.empty())
    return error(Code::invalid, "a leaf certificate needs a SPIFFE id or a DNS name");
  auto cert = newCertificate(tmpl, subjectKey);
  if (!cert) return cert.status();
  X509* x = cert->get();
  if (!X509_set_issuer_name(x, X509_get_subject_name(issuer.get())))
    return sslError(Code::internal, "issuer name");
  if (Status s = addCaOrLeafExtensions(x, issuer.get(), tmpl); !s) return s;
  if (!X509_sign(x, issuerKey.get(), EVP_sha256()))
    return sslError(Code::internal, "sign certificate");
  return Certificate(std::move(*cert));
}

Status verifyCertificateChain(const CertificateList& chain, const CertificateList& roots,
                              Clock::TimePoint at) {
  if (chain.empty()) return error(Code::invalid, "empty certificate chain");
  bssl::UniquePtr<X509_STORE> store(X509_STORE_new());
  bssl::UniquePtr<STACK_OF(X509)> untrusted(sk_X509_new_null());
  if (!store || !untrusted) return sslError(Code::internal, "verify");
  for (auto& root : roots)
    if (!X509_STORE_add_cert(store.get(), root.get())) return sslError(Code::internal, "trust");
  for (size_t i = 1; i < chain.size(); ++i)
    if (!bssl::PushToStack(untrusted.get(), upRef(chain[i].get())))
      return sslError(Code::internal, "verify");
  bssl::UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (!ctx || !X509_STORE_CTX_init(ctx.get(), store.get(), chain[0].get(), untrusted.get()))
    return sslError(Code::internal, "verify");
  X509_STORE_CTX_set_time(ctx.get(), 0, std::chrono::system_clock::to_time_t(at));
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return error(Code::denied,
                 std::string("certificate verify failed: ") + X509_verify_cert_error_string(err));
  }
  return {};
}

}  // namespace mesh::core
