#include "pilot/analysis/route_util.h"

namespace mesh::pilot::analysis {

void forEachDestination(const Resource& vs, const std::function<void(const Value& dest)>& fn) {
  const Value& spec = vs.spec();
  for (const char* kind : {"http", "tcp", "tls"}) {
    for (const Value& rule : spec[kind].items()) {
      for (const Value& route : rule["route"].items()) {
        if (route["destination"].isMap()) fn(route["destination"]);
      }
      if (rule["mirror"].isMap()) fn(rule["mirror"]);
      for (const Value& m : rule["mirrors"].items()) {
        if (m["destination"].isMap()) fn(m["destination"]);
      }
    }
  }
}

namespace {
GatewayRef resolve(const Value& field, const std::string& vsNs) {
  GatewayRef ref;
  ref.field = &field;
  const std::string& text = field.text();
  auto slash = text.find('/');
  if (slash != std::string::npos) {
    ref.ns = text.substr(0, slash);
    ref.name = text.substr(slash + 1);
  } else {
    ref.ns = vsNs;
    ref.name = text;
  }
  return ref;
}
}  // namespace

std::vector<GatewayRef> gatewayRefs(const Resource& vs, bool withMatches) {
  std::vector<GatewayRef> refs;
  for (const Value& g : vs.spec()["gateways"].items()) {
    if (g.text() != "mesh" && !g.text().empty()) refs.push_back(resolve(g, vs.ns));
  }
  if (!withMatches) return refs;
  for (const Value& rule : vs.spec()["http"].items()) {
    for (const Value& match : rule["match"].items()) {
      for (const Value& g : match["gateways"].items()) {
        if (g.text() != "mesh" && !g.text().empty()) refs.push_back(resolve(g, vs.ns));
      }
    }
  }
  return refs;
}

bool boundToMesh(const Resource& vs) {
  const Value& gateways = vs.spec()["gateways"];
  if (gateways.size() == 0) return true;
  for (const Value& g : gateways.items()) {
    if (g.text() == "mesh") return true;
  }
  return false;
}

const Value* subsetLabels(const Context& ctx, const std::string& fqdn, const std::string& subset) {
  for (const Resource* dr : ctx.destinationRulesFor(fqdn)) {
    for (const Value& s : dr->spec()["subsets"].items()) {
      if (s.str("name") == subset) return &s["labels"];
    }
  }
  return nullptr;
}

std::vector<const Workload*> serviceWorkloads(const Context& ctx, const ServiceInfo& svc) {
  if (svc.fromServiceEntry || svc.selector == nullptr || svc.selector->size() == 0) return {};
  return ctx.selectWorkloads(*svc.selector, svc.ns);
}

}  // namespace mesh::pilot::analysis
