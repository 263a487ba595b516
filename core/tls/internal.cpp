#include "core/tls/internal.h"

#include <openssl/err.h>

#include <cctype>
#include <cstring>

namespace mesh::core::tls_internal {

std::string readableReason(const char* reason) {
  std::string r = reason ? reason : "";
  for (char& c : r)
    c = c == '_' ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view prefix : {"sslv3 alert ", "tlsv1 alert "}) {
    if (r.rfind(prefix, 0) == 0) return "peer sent alert: " + r.substr(prefix.size());
  }
  return r;
}

std::string drainErrors(std::string_view fallback) {
  uint32_t first = ERR_get_error();
  ERR_clear_error();
  if (first == 0) return std::string(fallback);
  if (ERR_GET_LIB(first) == ERR_LIB_SYS) return std::strerror(ERR_GET_REASON(first));
  const char* reason = ERR_reason_error_string(first);
  if (reason == nullptr) return std::string(fallback);
  return readableReason(reason);
}

bssl::UniquePtr<BIO> readBio(std::string_view data) {
  return bssl::UniquePtr<BIO>(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string bioContents(BIO* bio) {
  const uint8_t* data = nullptr;
  size_t len = 0;
  if (!BIO_mem_contents(bio, &data, &len)) return {};
  return std::string(reinterpret_cast<const char*>(data), len);
}

Clock::TimePoint toTimePoint(const ASN1_TIME* t) {
  if (t == nullptr) return {};
  bssl::UniquePtr<ASN1_TIME> epoch(ASN1_TIME_set(nullptr, 0));
  int days = 0, seconds = 0;
  if (!epoch || !ASN1_TIME_diff(&days, &seconds, epoch.get(), t)) {
    ERR_clear_error();
    return {};
  }
  return Clock::TimePoint{} + std::chrono::seconds(int64_t{days} * 86400 + seconds);
}

bssl::UniquePtr<ASN1_TIME> toAsn1Time(Clock::TimePoint t) {
  return bssl::UniquePtr<ASN1_TIME>(
      ASN1_TIME_set(nullptr, std::chrono::system_clock::to_time_t(t)));
}

}  // namespace mesh::core::tls_internal
