#include "core/tls/spiffe.h"

namespace mesh::core {
namespace {

constexpr std::string_view kScheme = "spiffe://";
constexpr size_t kMaxIdLength = 2048;  // the SPIFFE spec's limit for a whole id
constexpr size_t kMaxTrustDomainLength = 255;

bool validSegment(std::string_view s) {
  if (s.empty() || s == "." || s == "..") return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

bool SpiffeId::validTrustDomain(std::string_view td) {
  if (td.empty() || td.size() > kMaxTrustDomainLength) return false;
  for (char c : td) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

Result<SpiffeId> SpiffeId::make(std::string_view trustDomain, std::string_view ns,
                                std::string_view serviceAccount) {
  if (!validTrustDomain(trustDomain))
    return error(Code::invalid, "invalid SPIFFE trust domain '" + std::string(trustDomain) + "'");
  if (!validSegment(ns))
    return error(Code::invalid, "invalid SPIFFE namespace '" + std::string(ns) + "'");
  if (!validSegment(serviceAccount))
    return error(Code::invalid,
                 "invalid SPIFFE service account '" + std::string(serviceAccount) + "'");
  SpiffeId id;
  id.trustDomain_ = trustDomain;
  id.ns_ = ns;
  id.serviceAccount_ = serviceAccount;
  if (id.toString().size() > kMaxIdLength) return error(Code::invalid, "SPIFFE id too long");
  return id;
}

Result<SpiffeId> SpiffeId::parse(std::string_view uri) {
  auto bad = [&](const char* why) {
    // Ids come from peers and files: quote a bounded prefix only.
    std::string shown(uri.substr(0, 128));
    return error(Code::invalid, std::string("invalid SPIFFE id '") + shown + "': " + why);
  };
  if (uri.size() > kMaxIdLength) return bad("too long");
  if (uri.substr(0, kScheme.size()) != kScheme) return bad("scheme must be spiffe://");
  std::string_view rest = uri.substr(kScheme.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return bad("no path");
  std::string_view td = rest.substr(0, slash);
  if (!validTrustDomain(td)) return bad("bad trust domain");
  std::string_view path = rest.substr(slash + 1);
  // Exactly four segments: ns/<ns>/sa/<sa>.
  std::string_view seg[4];
  for (int i = 0; i < 4; ++i) {
    size_t next = path.find('/');
    if (i < 3) {
      if (next == std::string_view::npos) return bad("path must be /ns/<ns>/sa/<sa>");
      seg[i] = path.substr(0, next);
      path = path.substr(next + 1);
    } else {
      if (next != std::string_view::npos) return bad("path must be /ns/<ns>/sa/<sa>");
      seg[i] = path;
    }
  }
  if (seg[0] != "ns" || seg[2] != "sa") return bad("path must be /ns/<ns>/sa/<sa>");
  if (!validSegment(seg[1]) || !validSegment(seg[3])) return bad("bad path segment");
  return make(td, seg[1], seg[3]);
}

std::string SpiffeId::toString() const {
  return std::string(kScheme) + trustDomain_ + "/ns/" + ns_ + "/sa/" + serviceAccount_;
}

}  // namespace mesh::core
