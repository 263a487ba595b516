#include "pilot/registry/service.h"

#include <algorithm>
#include <cctype>

namespace mesh::pilot {

bool selectorMatches(const Labels& selector, const Labels& labels) {
  for (const auto& [key, value] : selector) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  return true;
}

const ServicePort* Service::findPort(std::uint32_t number) const {
  for (const auto& port : ports) {
    if (port.number == number) return &port;
  }
  return nullptr;
}

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool isHttpName(const std::string& p) {
  return p == "http" || p == "http2" || p == "grpc" || p == "grpc-web" || p == "h2c";
}

}  // namespace

std::string portProtocol(const std::string& protocol, const std::string& appProtocol,
                         const std::string& name) {
  for (const auto& candidate : {lower(appProtocol), lower(protocol)}) {
    if (isHttpName(candidate)) return "http";
    if (candidate == "tcp" || candidate == "tls" || candidate == "https" || candidate == "mongo" ||
        candidate == "mysql" || candidate == "redis") {
      return "tcp";
    }
  }
  std::string n = lower(name);
  std::string prefix = n.substr(0, n.find('-'));
  return isHttpName(prefix) ? "http" : "tcp";
}

}  // namespace mesh::pilot
