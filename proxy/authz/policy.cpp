#include "proxy/authz/policy.h"

#include <charconv>

namespace mesh::proxy::authz {

using Attribute = Condition::Attribute;
using nlohmann::json;

std::string_view Attributes::sourceNamespace() const {
  // "<trust domain>/ns/<namespace>/sa/<service account>"
  size_t ns = principal.find("/ns/");
  if (ns == std::string_view::npos) return {};
  std::string_view rest = principal.substr(ns + 4);
  return rest.substr(0, rest.find('/'));
}

namespace {

// Thrown while compiling only; compile() turns it into a Status.
struct CompileError {
  std::string field, message;
};

std::vector<std::string> strings(const json& parent, const char* key, const std::string& at) {
  std::vector<std::string> out;
  auto it = parent.find(key);
  if (it == parent.end() || it->is_null()) return out;
  if (!it->is_array()) throw CompileError{at + key, "must be a list of strings"};
  for (size_t i = 0; i < it->size(); ++i) {
    const json& v = (*it)[i];
    if (!v.is_string())
      throw CompileError{at + key + "[" + std::to_string(i) + "]", "must be a string"};
    out.push_back(v.get<std::string>());
  }
  return out;
}

bool isAddress(Attribute a) {
  return a == Attribute::sourceIp || a == Attribute::remoteIp || a == Attribute::destinationIp;
}

std::vector<IpBlock> blocksOf(const std::vector<std::string>& texts, const std::string& field) {
  std::vector<IpBlock> out;
  for (size_t i = 0; i < texts.size(); ++i) {
    auto block = IpBlock::parse(texts[i]);
    if (!block)
      throw CompileError{field + "[" + std::to_string(i) + "]",
                         "\"" + texts[i] + "\" is not an IP address or CIDR block"};
    out.push_back(*block);
  }
  return out;
}

void checkPorts(const std::vector<std::string>& ports, const std::string& field) {
  for (size_t i = 0; i < ports.size(); ++i) {
    unsigned value = 0;
    const std::string& p = ports[i];
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
    if (ec != std::errc() || end != p.data() + p.size() || value == 0 || value > 65535)
      throw CompileError{field + "[" + std::to_string(i) + "]",
                         "\"" + p + "\" is not a port number"};
  }
}

Condition condition(Attribute attribute, std::vector<std::string> key,
                    const std::vector<std::string>& values,
                    const std::vector<std::string>& notValues, const std::string& field,
                    const std::string& notField) {
  Condition c;
  c.attribute = attribute;
  c.key = std::move(key);
  c.hasValues = !values.empty();
  c.hasNotValues = !notValues.empty();
  if (isAddress(attribute)) {
    c.blocks = blocksOf(values, field);
    c.notBlocks = blocksOf(notValues, notField);
  } else {
    if (attribute == Attribute::destinationPort) {
      checkPorts(values, field);
      checkPorts(notValues, notField);
    }
    c.values = ValueSet(values, attribute == Attribute::host);
    c.notValues = ValueSet(notValues, attribute == Attribute::host);
  }
  return c;
}

// The fields of a source or an operation: name, its `not` twin, the attribute it reads.
struct Field {
  const char* name;
  const char* notName;
  Attribute attribute;
};
constexpr Field kSourceFields[] = {
    {"principals", "notPrincipals", Attribute::principal},
    {"requestPrincipals", "notRequestPrincipals", Attribute::requestPrincipal},
    {"namespaces", "notNamespaces", Attribute::sourceNamespace},
    {"ipBlocks", "notIpBlocks", Attribute::sourceIp},
    {"remoteIpBlocks", "notRemoteIpBlocks", Attribute::remoteIp},
};
constexpr Field kOperationFields[] = {
    {"hosts", "notHosts", Attribute::host},
    {"ports", "notPorts", Attribute::destinationPort},
    {"methods", "notMethods", Attribute::method},
    {"paths", "notPaths", Attribute::path},
};

template <size_t N>
Conditions fields(const json& object, const Field (&known)[N], const std::string& at) {
  if (!object.is_object()) throw CompileError{at, "must be an object"};
  for (const auto& [key, value] : object.items()) {
    bool ok = false;
    for (const Field& f : known) ok = ok || key == f.name || key == f.notName;
    if (!ok) throw CompileError{at + key, "unknown field"};
  }
  Conditions out;
  for (const Field& f : known) {
    auto values = strings(object, f.name, at);
    auto notValues = strings(object, f.notName, at);
    if (values.empty() && notValues.empty()) continue;
    out.push_back(condition(f.attribute, {}, values, notValues, at + f.name, at + f.notName));
  }
  if (out.empty()) throw CompileError{at.substr(0, at.size() - 1), "must set at least one field"};
  return out;
}

// "request.auth.claims[groups][0]" style keys: the names between brackets.
std::vector<std::string> bracketed(std::string_view rest, const std::string& field) {
  std::vector<std::string> out;
  while (!rest.empty()) {
    if (rest.front() != '[') throw CompileError{field, "malformed key"};
    size_t close = rest.find(']');
    if (close == std::string_view::npos || close == 1) throw CompileError{field, "malformed key"};
    out.emplace_back(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
  }
  if (out.empty()) throw CompileError{field, "malformed key"};
  return out;
}

Condition whenCondition(const json& when, const std::string& at) {
  if (!when.is_object()) throw CompileError{at, "must be an object"};
  auto keyIt = when.find("key");
  if (keyIt == when.end() || !keyIt->is_string()) throw CompileError{at + ".key", "is required"};
  std::string key = keyIt->get<std::string>();
  std::string p = at + ".";
  auto values = strings(when, "values", p);
  auto notValues = strings(when, "notValues", p);
  if (values.empty() && notValues.empty())
    throw CompileError{at, "needs values or notValues"};
  auto make = [&](Attribute a, std::vector<std::string> k = {}) {
    return condition(a, std::move(k), values, notValues, p + "values", p + "notValues");
  };
  static const std::pair<const char*, Attribute> kPlain[] = {
      {"source.ip", Attribute::sourceIp},
      {"remote.ip", Attribute::remoteIp},
      {"source.namespace", Attribute::sourceNamespace},
      {"source.principal", Attribute::principal},
      {"destination.ip", Attribute::destinationIp},
      {"destination.port", Attribute::destinationPort},
      {"connection.sni", Attribute::sni},
      {"request.auth.principal", Attribute::authPrincipal},
      {"request.auth.audiences", Attribute::authAudiences},
      {"request.auth.presenter", Attribute::authPresenter},
  };
  for (const auto& [name, attribute] : kPlain) {
    if (key == name) return make(attribute);
  }
  std::string_view k = key;
  if (k.starts_with("request.headers")) {
    auto names = bracketed(k.substr(15), p + "key");
    if (names.size() != 1) throw CompileError{p + "key", "names one header"};
    return make(Attribute::header, std::move(names));
  }
  if (k.starts_with("request.auth.claims"))
    return make(Attribute::authClaim, bracketed(k.substr(19), p + "key"));
  throw CompileError{p + "key", "unknown key \"" + key + "\""};
}

Rule rule(const json& r, const std::string& at) {
  if (!r.is_object()) throw CompileError{at, "must be an object"};
  Rule out;
  for (const auto& [key, value] : r.items()) {
    if (key != "from" && key != "to" && key != "when") throw CompileError{at + "." + key, "unknown field"};
    if (!value.is_null() && !value.is_array()) throw CompileError{at + "." + key, "must be a list"};
  }
  auto list = [&](const char* key, const char* inner, auto& known, std::vector<Conditions>& into) {
    auto it = r.find(key);
    if (it == r.end() || it->is_null()) return;
    for (size_t i = 0; i < it->size(); ++i) {
      std::string here = at + "." + key + "[" + std::to_string(i) + "]." + inner;
      auto found = (*it)[i].find(inner);
      if (!(*it)[i].is_object() || found == (*it)[i].end())
        throw CompileError{here, "is required"};
      into.push_back(fields(*found, known, here + "."));
    }
  };
  list("from", "source", kSourceFields, out.from);
  list("to", "operation", kOperationFields, out.to);
  if (auto it = r.find("when"); it != r.end() && !it->is_null()) {
    for (size_t i = 0; i < it->size(); ++i)
      out.when.push_back(whenCondition((*it)[i], at + ".when[" + std::to_string(i) + "]"));
  }
  return out;
}

// A JWT claim's values as strings: a list gives each element, a string itself.
template <typename Fn>
void forEachClaimValue(const json* claims, const std::vector<std::string>& path, Fn&& fn) {
  if (!claims) return;
  const json* at = claims;
  for (const auto& name : path) {
    if (!at->is_object()) return;
    auto it = at->find(name);
    if (it == at->end()) return;
    at = &*it;
  }
  auto one = [&](const json& v) {
    if (v.is_string()) fn(v.get_ref<const std::string&>());
    else if (v.is_number() || v.is_boolean()) fn(v.dump());
  };
  if (at->is_array()) {
    for (const auto& v : *at) one(v);
  } else {
    one(*at);
  }
}

}  // namespace

bool Condition::httpOnly() const {
  switch (attribute) {
    case Attribute::requestPrincipal: case Attribute::host: case Attribute::method:
    case Attribute::path: case Attribute::header: case Attribute::authPrincipal:
    case Attribute::authAudiences: case Attribute::authPresenter: case Attribute::authClaim:
      return true;
    default:
      return false;
  }
}

bool Condition::matches(const Attributes& r) const {
  if (isAddress(attribute)) {
    const auto& ip = attribute == Attribute::sourceIp   ? r.sourceIp
                     : attribute == Attribute::remoteIp ? r.remoteIp
                                                        : r.destinationIp;
    auto within = [&](const std::vector<IpBlock>& blocks) {
      if (!ip) return false;
      for (const auto& b : blocks) {
        if (b.contains(*ip)) return true;
      }
      return false;
    };
    return (!hasValues || within(blocks)) && (!hasNotValues || !within(notBlocks));
  }
  // Every value the attribute has (several for list claims and audiences).
  bool any = false, anyNot = false;
  auto check = [&](std::string_view v) {
    any = any || values.matchesAny(v);
    anyNot = anyNot || notValues.matchesAny(v);
  };
  switch (attribute) {
    case Attribute::principal: check(r.principal); break;
    case Attribute::requestPrincipal:
    case Attribute::authPrincipal: check(r.requestPrincipal); break;
    case Attribute::sourceNamespace: check(r.sourceNamespace()); break;
    case Attribute::destinationPort: {
      char text[8];
      auto [end, ec] = std::to_chars(text, text + sizeof(text), r.destinationPort);
      check(std::string_view(text, ec == std::errc() ? end - text : 0));
      break;
    }
    case Attribute::sni: check(r.sni); break;
    case Attribute::host: {
      check(r.host);
      // "reviews:9080" also answers to the pattern "reviews".
      size_t colon = r.host.rfind(':');
      if (colon != std::string_view::npos && r.host.find(']', colon) == std::string_view::npos)
        check(r.host.substr(0, colon));
      break;
    }
    case Attribute::method: check(r.method); break;
    case Attribute::path: check(r.path); break;
    case Attribute::header:
      if (r.headers) r.headers->forEach(key.front(), [&](std::string_view v) { check(v); });
      break;
    case Attribute::authAudiences: forEachClaimValue(r.claims, {"aud"}, check); break;
    case Attribute::authPresenter: forEachClaimValue(r.claims, {"azp"}, check); break;
    case Attribute::authClaim: forEachClaimValue(r.claims, key, check); break;
    default: break;
  }
  return (!hasValues || any) && (!hasNotValues || !anyNot);
}

namespace {

// All of `conditions`; on TCP an HTTP-only one fails an ALLOW rule and is skipped by DENY.
bool allOf(const Conditions& conditions, const Attributes& r, Action action) {
  for (const auto& c : conditions) {
    if (!r.http && c.httpOnly()) {
      if (action == Action::deny) continue;
      return false;
    }
    if (!c.matches(r)) return false;
  }
  return true;
}

bool anyOf(const std::vector<Conditions>& alternatives, const Attributes& r, Action action) {
  if (alternatives.empty()) return true;
  for (const auto& conditions : alternatives) {
    if (allOf(conditions, r, action)) return true;
  }
  return false;
}

}  // namespace

bool Policy::matches(const Attributes& r) const {
  for (const auto& rule : rules_) {
    if (anyOf(rule.from, r, action_) && anyOf(rule.to, r, action_) && allOf(rule.when, r, action_))
      return true;
  }
  return false;
}

core::Result<Policy> Policy::compile(const json& resource) {
  Policy out;
  std::string name = resource.value("name", std::string()), ns = resource.value("namespace", std::string());
  out.id_ = ns + "." + name;
  std::string where = "AuthorizationPolicy " + ns + "/" + name + ": ";
  try {
    const json& spec = resource.contains("spec") ? resource.at("spec") : json::object();
    if (!spec.is_object()) throw CompileError{"spec", "must be an object"};
    std::string action = "ALLOW";
    if (auto it = spec.find("action"); it != spec.end() && !it->is_null()) {
      if (!it->is_string()) throw CompileError{"action", "must be a string"};
      action = it->get<std::string>();
    }
    if (action == "ALLOW") out.action_ = Action::allow;
    else if (action == "DENY") out.action_ = Action::deny;
    else if (action == "AUDIT") out.action_ = Action::audit;
    else if (action == "CUSTOM")
      throw CompileError{"action", "CUSTOM delegates to an external authorizer "
                                   "(meshConfig extensionProviders), which mesh does not support"};
    else throw CompileError{"action", "unknown value \"" + action + "\""};
    if (auto it = spec.find("rules"); it != spec.end() && !it->is_null()) {
      if (!it->is_array()) throw CompileError{"rules", "must be a list"};
      for (size_t i = 0; i < it->size(); ++i)
        out.rules_.push_back(rule((*it)[i], "rules[" + std::to_string(i) + "]"));
    }
  } catch (const CompileError& e) {
    return core::error(core::Code::invalid, where + e.field + ": " + e.message);
  } catch (const json::exception& e) {
    return core::error(core::Code::invalid, where + e.what());
  }
  return out;
}

}  // namespace mesh::proxy::authz
