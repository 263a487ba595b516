#include "cmd/echo/url.h"

#include <cstdlib>

namespace mesh::cmd::echo {

namespace {

core::Status invalid(std::string_view url, const std::string& why) {
  std::string message = "'";
  message.append(url).append("': ").append(why);
  return core::error(core::Code::invalid, std::move(message));
}

bool parsePort(std::string_view text, std::uint16_t& out) {
  if (text.empty() || text.size() > 5) return false;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return false;
  out = static_cast<std::uint16_t>(value);
  return true;
}

// Splits "host:port" or "[v6]:port" into `url`; no port means `defaultPort`.
core::Status parseAuthority(std::string_view whole, std::string_view authority,
                            std::uint16_t defaultPort, HttpUrl& url) {
  if (authority.empty()) return invalid(whole, "no host");
  if (authority.find('@') != std::string_view::npos)
    return invalid(whole, "user info is not supported");
  std::string_view host = authority, port;
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return invalid(whole, "unterminated [IPv6] host");
    host = authority.substr(1, close - 1);
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return invalid(whole, "junk after the [IPv6] host");
      port = rest.substr(1);
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return invalid(whole, "no host");
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == ':';
    if (!ok) return invalid(whole, "bad character in the host");
  }
  url.port = defaultPort;
  if (!port.empty() && !parsePort(port, url.port)) return invalid(whole, "bad port");
  url.host = std::string(host);
  url.authority = std::string(authority);
  return {};
}

}  // namespace

core::Result<HttpUrl> parseHttpUrl(std::string_view text) {
  constexpr std::string_view kScheme = "http://";
  if (text.size() < kScheme.size() || text.substr(0, kScheme.size()) != kScheme) {
    return invalid(text, "only http:// URLs are called (the sidecar adds TLS)");
  }
  std::string_view rest = text.substr(kScheme.size());
  if (size_t hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  size_t slash = rest.find_first_of("/?");
  HttpUrl url;
  if (core::Status s = parseAuthority(text, rest.substr(0, slash), 80, url); !s) return s;
  if (slash != std::string_view::npos) {
    std::string_view target = rest.substr(slash);
    url.target.clear();
    if (target.front() == '?') url.target.push_back('/');
    url.target.append(target);
  }
  for (char c : url.target) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return invalid(text, "the path must be visible ASCII (percent-encode the rest)");
    }
  }
  return url;
}

core::Result<std::optional<HttpUrl>> parseProxy(std::string_view value) {
  if (value.empty()) return std::optional<HttpUrl>();
  std::string_view rest = value;
  constexpr std::string_view kScheme = "http://";
  if (rest.substr(0, kScheme.size()) == kScheme) rest = rest.substr(kScheme.size());
  if (rest.find("://") != std::string_view::npos)
    return invalid(value, "only http:// proxies are supported");
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  HttpUrl proxy;
  if (core::Status s = parseAuthority(value, rest, 1080, proxy); !s) return s;
  return std::optional<HttpUrl>(std::move(proxy));
}

std::string proxyFromEnvironment() {
  for (const char* name : {"http_proxy", "HTTP_PROXY"}) {
    const char* value = std::getenv(name);
    if (value && *value) return value;
  }
  return {};
}

}  // namespace mesh::cmd::echo
