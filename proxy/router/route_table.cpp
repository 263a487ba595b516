#include "proxy/router/route_table.h"

#include <algorithm>

#include "core/http/chars.h"

namespace mesh::proxy {

using core::Code;
using core::Result;
using core::model::StringMatch;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = core::http::asciiLower(c);
  return out;
}

Result<std::vector<std::pair<std::string, StringMatcher>>> compileMap(
    const std::map<std::string, StringMatch>& in, bool lowerNames) {
  std::vector<std::pair<std::string, StringMatcher>> out;
  for (const auto& [name, match] : in) {
    auto m = StringMatcher::compile(match);
    if (!m.ok()) return core::error(Code::invalid, name + ": " + m.status().message());
    bool claim = name.starts_with(kClaimMatchPrefix);  // a claim's name keeps its case
    out.emplace_back(lowerNames && !claim ? lower(name) : name, std::move(*m));
  }
  return out;
}

Result<std::optional<StringMatcher>> compileOptional(const std::optional<StringMatch>& match,
                                                     bool ignoreCase = false) {
  if (!match) return std::optional<StringMatcher>{};
  auto m = StringMatcher::compile(*match, ignoreCase);
  if (!m.ok()) return m.status();
  return std::optional<StringMatcher>(std::move(*m));
}

// The value of `name` in a raw query string, if present ("a=1&b" gives b = "").
std::optional<std::string_view> queryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    if (key == name) return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::string_view stripPort(std::string_view authority) {
  if (authority.empty() || authority.front() == '[') {
    size_t close = authority.find(']');
    return close == std::string_view::npos ? authority : authority.substr(0, close + 1);
  }
  size_t colon = authority.rfind(':');
  return colon == std::string_view::npos ? authority : authority.substr(0, colon);
}

}  // namespace

Result<CompiledMatch> CompiledMatch::compile(const core::model::RouteMatch& match) {
  CompiledMatch m;
  auto uri = compileOptional(match.uri, match.ignoreUriCase);
  auto scheme = compileOptional(match.scheme);
  auto method = compileOptional(match.method);
  auto authority = compileOptional(match.authority);
  for (auto* r : {&uri, &scheme, &method, &authority}) {
    if (!r->ok()) return r->status();
  }
  m.uri_ = std::move(*uri);
  m.scheme_ = std::move(*scheme);
  m.method_ = std::move(*method);
  m.authority_ = std::move(*authority);
  auto headers = compileMap(match.headers, true);
  if (!headers.ok()) return headers.status();
  auto without = compileMap(match.withoutHeaders, true);
  if (!without.ok()) return without.status();
  auto query = compileMap(match.queryParams, false);
  if (!query.ok()) return query.status();
  // JWT claims written as headers ("@request.auth.claims.groups") are matched as claims.
  auto takeClaims = [](std::vector<std::pair<std::string, StringMatcher>>& from,
                       std::vector<std::pair<std::vector<std::string>, StringMatcher>>& to) {
    for (auto it = from.begin(); it != from.end();) {
      auto path = claimPath(it->first);
      if (path.empty()) {
        ++it;
        continue;
      }
      to.emplace_back(std::move(path), std::move(it->second));
      it = from.erase(it);
    }
  };
  takeClaims(*headers, m.claims_);
  takeClaims(*without, m.withoutClaims_);
  m.headers_ = std::move(*headers);
  m.withoutHeaders_ = std::move(*without);
  m.queryParams_ = std::move(*query);
  m.port_ = match.port;
  m.sourceLabels_ = match.sourceLabels;
  m.sourceNamespace_ = match.sourceNamespace;
  return m;
}

bool CompiledMatch::matches(const RouteRequest& r) const {
  if (uri_) {
    // A prefix may cover the query; exact and regex look at the path alone (Envoy's rule).
    if (uri_->kind() == StringMatch::Kind::prefix) {
      if (!uri_->matches(r.path)) return false;
    } else if (!uri_->matches(r.path)) {
      return false;
    }
  }
  if (scheme_ && !scheme_->matches(r.scheme)) return false;
  if (method_ && !method_->matches(r.method)) return false;
  if (authority_ && !authority_->matches(r.authority)) return false;
  if (port_ && *port_ != r.port) return false;
  for (const auto& [name, matcher] : headers_) {
    auto value = r.headers ? r.headers->get(name) : std::nullopt;
    if (!value || !matcher.matches(*value)) return false;
  }
  for (const auto& [name, matcher] : withoutHeaders_) {
    auto value = r.headers ? r.headers->get(name) : std::nullopt;
    if (value && matcher.matches(*value)) return false;
  }
  for (const auto& [path, matcher] : claims_) {
    if (!claimMatches(r.claims, path, matcher)) return false;
  }
  for (const auto& [path, matcher] : withoutClaims_) {
    if (claimMatches(r.claims, path, matcher)) return false;
  }
  for (const auto& [name, matcher] : queryParams_) {
    auto value = queryParam(r.query, name);
    if (!value || !matcher.matches(*value)) return false;
  }
  if (!sourceNamespace_.empty() && sourceNamespace_ != r.sourceNamespace) return false;
  for (const auto& [key, value] : sourceLabels_) {
    if (!r.sourceLabels) return false;
    auto it = r.sourceLabels->find(key);
    if (it == r.sourceLabels->end() || it->second != value) return false;
  }
  return true;
}

Result<std::shared_ptr<const CompiledRouteTable>> CompiledRouteTable::compile(
    const core::model::RouteTable& table) {
  auto out = std::make_shared<CompiledRouteTable>();
  for (const auto& vhost : table.virtualHosts) {
    Host host;
    host.config = &vhost;
    for (size_t i = 0; i < vhost.routes.size(); ++i) {
      const auto& route = vhost.routes[i];
      std::string where = "route table " + table.name + ", virtual host " + vhost.name +
                          ", routes[" + std::to_string(i) + "]: ";
      CompiledRoute compiled;
      compiled.config = &route;
      for (const auto& match : route.match) {
        auto m = CompiledMatch::compile(match);
        if (!m.ok()) return core::error(Code::invalid, where + m.status().message());
        compiled.matches.push_back(std::move(*m));
      }
      for (const auto& dest : route.route) compiled.totalWeight += dest.weight;
      compiled.retryPolicy = RetryPolicy::fromRoute(route.retries);
      if (route.rewrite && !route.rewrite->uriRegex.empty()) {
        auto re = Regex::compile(route.rewrite->uriRegex);
        if (!re.ok()) return core::error(Code::invalid, where + "rewrite: " + re.status().message());
        compiled.rewriteRegex = std::move(*re);
      }
      host.routes.push_back(std::move(compiled));
    }
    size_t index = out->hosts_.size();
    out->hosts_.push_back(std::move(host));
    for (const auto& domain : vhost.domains) {
      std::string d = lower(domain);
      if (d == "*") {
        if (!out->any_) out->any_ = index;
      } else if (d.size() > 1 && d.front() == '*') {
        out->suffixes_.emplace_back(d.substr(1), index);
      } else if (d.size() > 1 && d.back() == '*') {
        out->prefixes_.emplace_back(d.substr(0, d.size() - 1), index);
      } else {
        out->exact_.emplace(d, index);
      }
    }
  }
  auto longestFirst = [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); };
  std::stable_sort(out->suffixes_.begin(), out->suffixes_.end(), longestFirst);
  std::stable_sort(out->prefixes_.begin(), out->prefixes_.end(), longestFirst);
  return std::shared_ptr<const CompiledRouteTable>(std::move(out));
}

const CompiledRouteTable::Host* CompiledRouteTable::findHostExact(std::string_view host) const {
  // Host names are short: a stack copy in lower case avoids an allocation.
  char buf[256];
  if (host.size() > sizeof(buf)) return nullptr;
  for (size_t i = 0; i < host.size(); ++i) buf[i] = core::http::asciiLower(host[i]);
  std::string_view name(buf, host.size());
  if (auto it = exact_.find(name); it != exact_.end()) return &hosts_[it->second];
  for (const auto& [suffix, index] : suffixes_) {
    if (name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix) {
      return &hosts_[index];
    }
  }
  for (const auto& [prefix, index] : prefixes_) {
    if (name.size() > prefix.size() && name.substr(0, prefix.size()) == prefix) {
      return &hosts_[index];
    }
  }
  return nullptr;
}

const CompiledRouteTable::Host* CompiledRouteTable::findHost(std::string_view authority) const {
  if (const Host* h = findHostExact(authority)) return h;
  std::string_view bare = stripPort(authority);
  if (bare.size() != authority.size()) {
    if (const Host* h = findHostExact(bare)) return h;
  }
  return any_ ? &hosts_[*any_] : nullptr;
}

RouteMatchResult CompiledRouteTable::match(const RouteRequest& request) const {
  const Host* host = findHost(request.authority);
  if (!host) return {};
  for (const auto& route : host->routes) {
    if (route.matches.empty()) return {&route, nullptr, &host->config->name};
    for (const auto& m : route.matches) {
      if (m.matches(request)) return {&route, &m, &host->config->name};
    }
  }
  return {};
}

const core::model::WeightedCluster& CompiledRouteTable::pickCluster(const CompiledRoute& route,
                                                                    uint64_t dice) {
  const auto& dests = route.config->route;
  if (route.totalWeight == 0) return dests.front();
  uint64_t point = dice % route.totalWeight;
  for (const auto& dest : dests) {
    if (point < dest.weight) return dest;
    point -= dest.weight;
  }
  return dests.back();
}

std::string rewritePath(const CompiledRoute& route, const CompiledMatch* match,
                        std::string_view path) {
  const auto& rewrite = *route.config->rewrite;
  if (route.rewriteRegex) {
    return route.rewriteRegex->replace(path, rewrite.uriRegexRewrite);
  }
  if (rewrite.uri.empty()) return std::string(path);
  if (match && match->uri() && match->uri()->kind() == StringMatch::Kind::prefix) {
    return rewrite.uri + std::string(path.substr(match->uri()->value().size()));
  }
  // Exact, regex or no uri match: the whole path is replaced; the query string stays.
  size_t q = path.find('?');
  return rewrite.uri + (q == std::string_view::npos ? std::string() : std::string(path.substr(q)));
}

}  // namespace mesh::proxy
