#include "proxy/admin/certs_page.h"

#include <ctime>

namespace mesh::proxy {

std::string rfc3339(core::Clock::TimePoint t) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

namespace {

nlohmann::json describe(const core::Certificate& cert, const char* name, const char* type) {
  nlohmann::json out = {{"name", name},
                        {"type", type},
                        {"serialNumber", cert.serialHex()},
                        {"notBefore", rfc3339(cert.notBefore())},
                        {"notAfter", rfc3339(cert.notAfter())}};
  auto id = cert.spiffeId();
  if (id.ok()) out["spiffeId"] = id->toString();
  return out;
}

}  // namespace

nlohmann::json certsJson(const core::IssuedIdentity* identity) {
  nlohmann::json list = nlohmann::json::array();
  if (identity) {
    // Istio's resource names: "default" for the workload's chain, "ROOTCA" for the roots.
    if (!identity->chain.empty())
      list.push_back(describe(identity->chain.front(), "default", "Cert Chain"));
    for (const auto& root : identity->trustBundle) list.push_back(describe(root, "ROOTCA", "CA"));
  }
  return {{"certificates", list}};
}

}  // namespace mesh::proxy
