#include "pilot/compile/http_route.h"

#include <algorithm>
#include <cctype>

#include "core/config/duration.h"
#include "pilot/registry/spec_access.h"

namespace mesh::pilot {

using core::model::Route;
using core::model::StringMatch;
using nlohmann::json;

std::string clusterName(std::uint32_t port, const std::string& subset, const std::string& host) {
  return "outbound|" + std::to_string(port) + "|" + subset + "|" + host;
}

std::string destinationCluster(const json& d, const RouteContext& ctx) {
  std::string host = ctx.qualify(specString(d, "host"));
  std::uint32_t port = specUint(specChild(d, "port"), "number");
  if (port == 0) port = ctx.defaultPort(host);
  if (port == 0) port = ctx.fallbackPort;
  std::string name = clusterName(port, specString(d, "subset"), host);
  return ctx.hasCluster(name) ? name : "";
}

namespace {

std::optional<StringMatch> stringMatch(const json& j) {
  if (!j.is_object()) return std::nullopt;
  for (auto [key, kind] : {std::pair{"exact", StringMatch::Kind::exact},
                           {"prefix", StringMatch::Kind::prefix},
                           {"regex", StringMatch::Kind::regex}}) {
    if (j.contains(key) && j[key].is_string()) return StringMatch{kind, j[key].get<std::string>()};
  }
  return std::nullopt;
}

std::map<std::string, StringMatch> matchMap(const json& j, bool lowerKeys) {
  std::map<std::string, StringMatch> out;
  if (!j.is_object()) return out;
  for (const auto& [key, value] : j.items()) {
    std::string name = key;
    // Header names are case-blind; a JWT claim's name ("@request.auth.claims.<name>") is not.
    if (lowerKeys && !name.starts_with("@request.auth.claims.")) {
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
    // An empty match object ({}) means "present with any value": a prefix match on "".
    out[name] = stringMatch(value).value_or(StringMatch{StringMatch::Kind::prefix, ""});
  }
  return out;
}

std::uint32_t millis(const json& j, const char* key) {
  std::string text = specString(j, key);
  if (text.empty()) return 0;
  auto d = core::config::parseDuration(text);
  return d ? static_cast<std::uint32_t>(d->count()) : 0;
}

double percent(const json& j, double fallback) {
  const auto& p = specChild(j, "percentage");
  if (p.is_object() && p.contains("value") && p["value"].is_number()) return p["value"].get<double>();
  const auto& legacy = specChild(j, "percent");
  return legacy.is_number() ? legacy.get<double>() : fallback;
}

core::model::HeaderOperations headerOps(const json& j) {
  core::model::HeaderOperations ops;
  ops.set = specLabels(j, "set");
  ops.add = specLabels(j, "add");
  ops.remove = specStrings(j, "remove");
  return ops;
}

core::model::Headers headers(const json& j) {
  return {headerOps(specChild(j, "request")), headerOps(specChild(j, "response"))};
}

core::model::RouteMatch convertMatch(const json& m) {
  core::model::RouteMatch out;
  out.name = specString(m, "name");
  out.uri = stringMatch(specChild(m, "uri"));
  out.scheme = stringMatch(specChild(m, "scheme"));
  out.method = stringMatch(specChild(m, "method"));
  out.authority = stringMatch(specChild(m, "authority"));
  out.headers = matchMap(specChild(m, "headers"), true);
  out.withoutHeaders = matchMap(specChild(m, "withoutHeaders"), true);
  out.queryParams = matchMap(specChild(m, "queryParams"), false);
  if (std::uint32_t port = specUint(m, "port")) out.port = port;
  out.sourceLabels = specLabels(m, "sourceLabels");
  out.sourceNamespace = specString(m, "sourceNamespace");
  out.ignoreUriCase = specChild(m, "ignoreUriCase").is_boolean() && m["ignoreUriCase"].get<bool>();
  return out;
}

void convertActions(const json& r, const RouteContext& ctx, Route& out) {
  const auto& redirect = specChild(r, "redirect");
  if (redirect.is_object()) {
    core::model::Redirect rd;
    rd.uri = specString(redirect, "uri");
    rd.authority = specString(redirect, "authority");
    if (std::uint32_t port = specUint(redirect, "port")) rd.port = port;
    rd.derivePort = specString(redirect, "derivePort") == "FROM_REQUEST_PORT";
    rd.scheme = specString(redirect, "scheme");
    rd.code = specUint(redirect, "redirectCode", 301);
    out.redirect = rd;
    return;
  }
  const auto& direct = specChild(r, "directResponse");
  if (direct.is_object()) {
    core::model::DirectResponse dr;
    dr.status = specUint(direct, "status", 200);
    const auto& body = specChild(direct, "body");
    dr.body = body.is_object() ? specString(body, "string") : "";
    out.directResponse = dr;
    return;
  }
  const auto& destinations = specChild(r, "route");
  if (destinations.is_array()) {
    for (const auto& d : destinations) {
      std::string cluster = destinationCluster(specChild(d, "destination"), ctx);
      if (cluster.empty()) continue;
      std::uint32_t weight = specUint(d, "weight", destinations.size() == 1 ? 100 : 0);
      out.route.push_back({cluster, weight, headers(specChild(d, "headers"))});
    }
    // Weights left out everywhere mean an even split.
    bool anyWeight = std::any_of(out.route.begin(), out.route.end(),
                                 [](const auto& w) { return w.weight > 0; });
    if (!anyWeight) {
      for (auto& w : out.route) w.weight = 1;
    }
  }
  if (out.route.empty()) out.directResponse = core::model::DirectResponse{503, "no healthy upstream"};
}

void convertPolicies(const json& r, const RouteContext& ctx, Route& out) {
  const auto& rewrite = specChild(r, "rewrite");
  if (rewrite.is_object()) {
    core::model::Rewrite rw;
    rw.uri = specString(rewrite, "uri");
    rw.authority = specString(rewrite, "authority");
    const auto& regex = specChild(rewrite, "uriRegexRewrite");
    rw.uriRegex = specString(regex, "match");
    rw.uriRegexRewrite = specString(regex, "rewrite");
    out.rewrite = rw;
  }
  out.timeoutMs = millis(r, "timeout");
  const auto& retries = specChild(r, "retries");
  if (retries.is_object()) {
    core::model::Retries rt;
    rt.attempts = specUint(retries, "attempts", rt.attempts);
    rt.perTryTimeoutMs = millis(retries, "perTryTimeout");
    rt.retryOn = specString(retries, "retryOn", rt.retryOn);
    out.retries = rt;
  }
  const auto& fault = specChild(r, "fault");
  if (fault.is_object()) {
    core::model::Fault f;
    const auto& delay = specChild(fault, "delay");
    if (delay.is_object()) {
      f.delayMs = millis(delay, "fixedDelay");
      f.delayPercent = percent(delay, 100);
    }
    const auto& abort = specChild(fault, "abort");
    if (abort.is_object()) {
      f.abortStatus = specUint(abort, "httpStatus", 503);
      f.abortPercent = percent(abort, 100);
    }
    out.fault = f;
  }
  const auto& mirror = specChild(r, "mirror");
  if (mirror.is_object()) {
    std::string cluster = destinationCluster(mirror, ctx);
    if (!cluster.empty()) {
      const auto& mp = specChild(r, "mirrorPercentage");
      double pct = mp.is_object() && mp.contains("value") && mp["value"].is_number()
                       ? mp["value"].get<double>() : 100;
      out.mirror = core::model::Mirror{cluster, pct};
    }
  }
  const auto& cors = specChild(r, "corsPolicy");
  if (cors.is_object()) {
    core::model::Cors c;
    const auto& origins = specChild(cors, "allowOrigins");
    if (origins.is_array()) {
      for (const auto& o : origins) {
        if (auto m = stringMatch(o)) c.allowOrigins.push_back(*m);
      }
    }
    for (const auto& o : specStrings(cors, "allowOrigin")) {
      c.allowOrigins.push_back({StringMatch::Kind::exact, o});
    }
    c.allowMethods = specStrings(cors, "allowMethods");
    c.allowHeaders = specStrings(cors, "allowHeaders");
    c.exposeHeaders = specStrings(cors, "exposeHeaders");
    c.maxAgeSeconds = millis(cors, "maxAge") / 1000;
    c.allowCredentials = specChild(cors, "allowCredentials").is_boolean() &&
                         cors["allowCredentials"].get<bool>();
    out.cors = c;
  }
  out.headers = headers(specChild(r, "headers"));
}

// Whether a match applies to requests arriving on ctx.port through ctx.gateway.
bool matchApplies(const json& m, const RouteContext& ctx) {
  std::uint32_t p = specUint(m, "port");
  if (p != 0 && p != ctx.port) return false;
  auto gateways = specStrings(m, "gateways");
  if (gateways.empty()) return true;  // the VirtualService's own gateways apply
  return std::any_of(gateways.begin(), gateways.end(), [&](const std::string& g) {
    return namesGateway(g, ctx.vsNamespace, ctx.gateway);
  });
}

Route convertHttpRoute(const json& r, const RouteContext& ctx) {
  Route out;
  out.name = specString(r, "name");
  out.virtualService = ctx.virtualService;
  const auto& matches = specChild(r, "match");
  if (matches.is_array()) {
    for (const auto& m : matches) {
      if (matchApplies(m, ctx)) out.match.push_back(convertMatch(m));
    }
  }
  convertActions(r, ctx, out);
  convertPolicies(r, ctx, out);
  return out;
}

}  // namespace

bool namesGateway(const std::string& entry, const std::string& vsNamespace,
                  const std::string& gateway) {
  if (entry == "mesh" || gateway == "mesh") return entry == gateway;
  return (entry.find('/') == std::string::npos ? vsNamespace + "/" + entry : entry) == gateway;
}

std::vector<Route> convertHttpRoutes(const json& vsSpec, const RouteContext& ctx) {
  std::vector<Route> out;
  const auto& http = specChild(vsSpec, "http");
  if (!http.is_array()) return out;
  for (const auto& r : http) {
    const auto& matches = specChild(r, "match");
    bool hasMatches = matches.is_array() && !matches.empty();
    Route route = convertHttpRoute(r, ctx);
    if (hasMatches && route.match.empty()) continue;  // every match is for another port or gateway
    out.push_back(std::move(route));
  }
  return out;
}

}  // namespace mesh::pilot
