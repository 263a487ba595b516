#include "pilot/registry/service_index.h"

#include <algorithm>

#include "pilot/registry/spec_access.h"

namespace mesh::pilot {

using core::config::Resource;

namespace {

std::string labelKey(const std::string& ns, const std::string& key, const std::string& value) {
  std::string out = ns;
  out += '\0';
  out += key;
  out += '\0';
  out += value;
  return out;
}

// YAML integers arrive as signed JSON numbers, so an unsigned-only check would miss them.
bool isPort(const nlohmann::json& v) {
  return v.is_number_integer() && v.get<std::int64_t>() > 0 && v.get<std::int64_t>() <= 65535;
}

}  // namespace

ServiceIndex::ServiceIndex(const std::vector<Resource>& resources,
                           const std::vector<Workload>& proxies, const RegistryOptions& options)
    : options_(options) {
  for (const auto& r : resources) {
    if (r.kind == "WorkloadEntry") addWorkloadEntry(r);
  }
  workloads_.insert(workloads_.end(), proxies.begin(), proxies.end());
  for (std::size_t i = 0; i < workloads_.size(); ++i) {
    const Workload& w = workloads_[i];
    byNamespace_[w.ns].push_back(i);
    for (const auto& [key, value] : w.labels) byLabel_[labelKey(w.ns, key, value)].push_back(i);
  }
  for (const auto& r : resources) {
    if (r.kind == "Service" && r.group().empty()) addService(r);
    if (r.kind == "ServiceEntry") addServiceEntry(r);
  }
  std::stable_sort(services_.begin(), services_.end(), [](const Service& a, const Service& b) {
    return std::tie(a.host, a.ns) < std::tie(b.host, b.ns);
  });
  for (std::size_t i = 0; i < services_.size(); ++i) byHost_.emplace(services_[i].host, i);
}

std::string ServiceIndex::qualify(const std::string& host, const std::string& ns) const {
  if (host.empty() || host.find('*') != std::string::npos) return host;
  std::string suffix = ".svc." + options_.domainSuffix;
  if (host.size() > suffix.size() && host.ends_with(suffix)) return host;
  auto dots = std::count(host.begin(), host.end(), '.');
  if (dots == 0) return host + "." + ns + suffix;
  if (dots == 1) return host + suffix;  // name.namespace
  return host;                          // an external name or already qualified
}

const Service* ServiceIndex::find(const std::string& host) const {
  auto it = byHost_.find(host);
  return it == byHost_.end() ? nullptr : &services_[it->second];
}

void ServiceIndex::addService(const Resource& r) {
  Service s;
  s.kind = "Service";
  s.name = r.name;
  s.ns = r.ns;
  s.host = r.name + "." + r.ns + ".svc." + options_.domainSuffix;
  s.selector = specLabels(r.spec, "selector");
  s.hasSelector = !s.selector.empty();
  std::string clusterIp = specString(r.spec, "clusterIP");
  if (!clusterIp.empty() && clusterIp != "None") s.addresses.push_back(clusterIp);
  const auto& ports = specChild(r.spec, "ports");
  if (ports.is_array()) {
    for (const auto& p : ports) {
      ServicePort port;
      port.number = specUint(p, "port");
      port.name = specString(p, "name");
      port.protocol = portProtocol(specString(p, "protocol"), specString(p, "appProtocol"),
                                   port.name);
      port.targetPort = specUint(p, "targetPort", port.number);  // a named targetPort: same
      s.ports.push_back(port);
    }
  }
  auto exportTo = r.annotations.find("networking.istio.io/exportTo");
  if (exportTo != r.annotations.end()) {
    std::string list = exportTo->second;
    for (std::size_t start = 0; start <= list.size();) {
      std::size_t comma = std::min(list.find(',', start), list.size());
      if (comma > start) s.exportTo.push_back(list.substr(start, comma - start));
      start = comma + 1;
    }
  }
  services_.push_back(std::move(s));
}

void ServiceIndex::addServiceEntry(const Resource& r) {
  Service base;
  base.kind = "ServiceEntry";
  base.name = r.name;
  base.ns = r.ns;
  base.addresses = specStrings(r.spec, "addresses");
  base.exportTo = specStrings(r.spec, "exportTo");
  base.meshExternal = specString(r.spec, "location", "MESH_EXTERNAL") == "MESH_EXTERNAL";
  base.resolution = specString(r.spec, "resolution", "NONE");
  const auto& selector = specChild(r.spec, "workloadSelector");
  base.selector = specLabels(selector, "labels");
  base.hasSelector = selector.is_object();
  const auto& ports = specChild(r.spec, "ports");
  if (ports.is_array()) {
    for (const auto& p : ports) {
      ServicePort port;
      port.number = specUint(p, "number");
      port.name = specString(p, "name");
      port.protocol = portProtocol(specString(p, "protocol"), "", port.name);
      port.targetPort = specUint(p, "targetPort", port.number);
      base.ports.push_back(port);
    }
  }
  const auto& endpoints = specChild(r.spec, "endpoints");
  if (endpoints.is_array()) {
    for (const auto& e : endpoints) {
      Workload w;
      w.ns = r.ns;
      w.address = specString(e, "address");
      w.labels = specLabels(e, "labels");
      w.weight = specUint(e, "weight", 1);
      std::string sa = specString(e, "serviceAccount");
      if (!sa.empty()) w.identity = "spiffe://" + options_.trustDomain + "/ns/" + r.ns + "/sa/" + sa;
      const auto& named = specChild(e, "ports");
      if (named.is_object()) {
        for (const auto& [name, number] : named.items()) {
          if (isPort(number)) w.namedPorts[name] = number.get<std::uint32_t>();
        }
      }
      base.inlineEndpoints.push_back(std::move(w));
    }
  }
  for (const auto& host : specStrings(r.spec, "hosts")) {
    Service s = base;
    s.host = host;
    services_.push_back(std::move(s));
  }
}

void ServiceIndex::addWorkloadEntry(const Resource& r) {
  Workload w;
  w.name = r.name;
  w.ns = r.ns;
  w.address = specString(r.spec, "address");
  w.labels = specLabels(r.spec, "labels");
  w.serviceAccount = specString(r.spec, "serviceAccount", "default");
  w.identity = "spiffe://" + options_.trustDomain + "/ns/" + r.ns + "/sa/" + w.serviceAccount;
  w.weight = specUint(r.spec, "weight", 1);
  const auto& named = specChild(r.spec, "ports");
  if (named.is_object()) {
    for (const auto& [name, number] : named.items()) {
      if (isPort(number)) w.namedPorts[name] = number.get<std::uint32_t>();
    }
  }
  workloads_.push_back(std::move(w));
}

namespace {

// The port on the workload for a service port: a WorkloadEntry's port of the same name,
// else the target port.
std::uint32_t workloadPort(const Workload& w, const ServicePort& port) {
  auto named = w.namedPorts.find(port.name);
  if (named != w.namedPorts.end()) return named->second;
  return port.targetPort ? port.targetPort : port.number;
}

core::model::Endpoint toEndpoint(const Workload& w, const ServicePort& port) {
  core::model::Endpoint e;
  e.address = w.address;
  e.port = workloadPort(w, port);
  e.weight = w.weight;
  e.labels = w.labels;
  e.identity = w.identity;
  e.sidecarPort = w.sidecarPort;
  return e;
}

}  // namespace

std::vector<core::model::Endpoint> ServiceIndex::endpoints(const Service& service,
                                                           const ServicePort& port) const {
  std::vector<core::model::Endpoint> out;
  for (const auto& w : service.inlineEndpoints) {
    auto e = toEndpoint(w, port);
    if (!w.namedPorts.count(port.name)) e.port = port.targetPort ? port.targetPort : port.number;
    out.push_back(std::move(e));
  }
  if (service.hasSelector) {
    static const std::vector<std::size_t> kNone;
    const std::vector<std::size_t>* candidates = &kNone;
    if (service.selector.empty()) {
      if (auto it = byNamespace_.find(service.ns); it != byNamespace_.end()) candidates = &it->second;
    } else {
      const auto& [key, value] = *service.selector.begin();
      if (auto it = byLabel_.find(labelKey(service.ns, key, value)); it != byLabel_.end()) {
        candidates = &it->second;
      }
    }
    for (std::size_t i : *candidates) {
      const Workload& w = workloads_[i];
      if (w.ns != service.ns || w.address.empty()) continue;
      if (!selectorMatches(service.selector, w.labels)) continue;
      // A proxy serves the port only when its hello listed it (or listed no ports at all).
      std::uint32_t target = workloadPort(w, port);
      if (w.fromProxy && !w.ports.empty() &&
          std::find(w.ports.begin(), w.ports.end(), target) == w.ports.end()) {
        continue;
      }
      out.push_back(toEndpoint(w, port));
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.address, a.port) < std::tie(b.address, b.port);
  });
  return out;
}

}  // namespace mesh::pilot
