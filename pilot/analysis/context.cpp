#include "pilot/analysis/context.h"

#include <algorithm>

namespace mesh::pilot::analysis {

namespace {

std::string key(std::string_view kind, std::string_view ns, std::string_view name) {
  std::string k(kind);
  k += '\n';
  k += ns;
  k += '\n';
  k += name;
  return k;
}

const Value* podTemplate(const Resource& r) {
  if (r.kind == "CronJob") return &r.spec()["jobTemplate"]["spec"]["template"];
  static const char* kinds[] = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
                                "Job", "ReplicationController", "DeploymentConfig"};
  for (const char* k : kinds) {
    if (r.kind == k) return &r.spec()["template"];
  }
  return nullptr;
}

// Evaluates a Kubernetes LabelSelector against a namespace with no labels at all.
bool selectsUnlabelled(const Value& selector) {
  if (!selector.present()) return true;
  if (selector["matchLabels"].size() > 0) return false;
  for (const Value& expr : selector["matchExpressions"].items()) {
    const std::string op = expr.str("operator");
    if (op == "In" || op == "Exists") return false;
  }
  return true;
}

}  // namespace

bool labelsMatch(const Value& selector, const Value& labels) {
  for (const auto& [k, v] : selector.entries()) {
    const Value* have = labels.find(k);
    if (have == nullptr || have->text() != v.text()) return false;
  }
  return true;
}

bool hostsOverlap(std::string_view a, std::string_view b) {
  if (a == b || a == "*" || b == "*") return true;
  auto covers = [](std::string_view wild, std::string_view name) {
    if (wild.size() < 2 || wild.substr(0, 2) != "*.") return false;
    std::string_view suffix = wild.substr(1);  // ".example.com"
    if (name.substr(0, 2) == "*.") name = name.substr(1);
    return name.size() >= suffix.size() &&
           name.substr(name.size() - suffix.size()) == suffix;
  };
  return covers(a, b) || covers(b, a);
}

Context::Context(const std::vector<Resource>& resources, Settings settings)
    : settings_(std::move(settings)) {
  for (const Resource& r : resources) {
    byKind_[r.kind].push_back(&r);
    byKey_.emplace(key(r.kind, r.ns, r.name), &r);
  }
  indexServices();
  indexWorkloads();
  detectInjectionDefault();
}

const std::vector<const Resource*>& Context::ofKind(std::string_view kind) const {
  auto it = byKind_.find(std::string(kind));
  return it == byKind_.end() ? empty_ : it->second;
}

const Resource* Context::find(std::string_view kind, std::string_view ns,
                              std::string_view name) const {
  auto it = byKey_.find(key(kind, ns, name));
  return it == byKey_.end() ? nullptr : it->second;
}

std::string Context::fqdn(std::string_view host, std::string_view ns) const {
  std::string h(host);
  if (h.find('*') != std::string::npos || h.find('.') != std::string::npos) return h;
  return h + "." + std::string(ns) + ".svc." + settings_.domainSuffix;
}

const ServiceInfo* Context::service(std::string_view fqdn) const {
  auto it = serviceIndex_.find(std::string(fqdn));
  return it == serviceIndex_.end() ? nullptr : &services_[it->second];
}

const ServiceInfo* Context::lookupHost(std::string_view fqdn) const {
  if (const ServiceInfo* s = service(fqdn)) return s;
  // "reviews.bookinfo" is how people write a service in another namespace.
  if (std::count(fqdn.begin(), fqdn.end(), '.') == 1) {
    if (const ServiceInfo* s =
            service(std::string(fqdn) + ".svc." + settings_.domainSuffix)) {
      return s;
    }
  }
  for (size_t i : wildcardServices_) {
    if (hostsOverlap(services_[i].fqdn, fqdn)) return &services_[i];
  }
  return nullptr;
}

void Context::indexServices() {
  for (const Resource* r : ofKind("Service")) {
    if (r->apiVersion != "v1") continue;
    ServiceInfo s;
    s.fqdn = r->name + "." + r->ns + ".svc." + settings_.domainSuffix;
    s.ns = r->ns;
    s.resource = r;
    const Value& selector = r->spec()["selector"];
    if (selector.isMap()) s.selector = &selector;
    for (const Value& p : r->spec()["ports"].items()) {
      ServicePort port;
      p["port"].asInt(port.number);
      port.name = p.str("name");
      port.protocol = p.str("protocol").empty() ? "TCP" : p.str("protocol");
      port.targetPort = p["targetPort"].present() ? p.str("targetPort") : p.str("port");
      port.appProtocol = p.str("appProtocol");
      port.field = &p;
      s.ports.push_back(port);
    }
    serviceIndex_.emplace(s.fqdn, services_.size());
    servicesByNs_[s.ns].push_back(services_.size());
    services_.push_back(std::move(s));
  }
  for (const Resource* r : ofKind("DestinationRule")) {
    rulesByHost_[fqdn(r->spec().str("host"), r->ns)].push_back(r);
  }
  for (const Resource* r : ofKind("ServiceEntry")) {
    for (const Value& h : r->spec()["hosts"].items()) {
      ServiceInfo s;
      s.fqdn = h.text();
      s.ns = r->ns;
      s.resource = r;
      s.fromServiceEntry = true;
      for (const Value& p : r->spec()["ports"].items()) {
        ServicePort port;
        p["number"].asInt(port.number);
        port.name = p.str("name");
        port.protocol = p.str("protocol");
        port.targetPort = p.str("targetPort");
        port.field = &p;
        s.ports.push_back(port);
      }
      if (s.fqdn.find('*') != std::string::npos) wildcardServices_.push_back(services_.size());
      serviceIndex_.emplace(s.fqdn, services_.size());  // the first definition wins
      services_.push_back(std::move(s));
    }
  }
}

std::vector<const ServiceInfo*> Context::servicesIn(std::string_view ns) const {
  std::vector<const ServiceInfo*> out;
  auto it = servicesByNs_.find(std::string(ns));
  if (it == servicesByNs_.end()) return out;
  for (size_t i : it->second) out.push_back(&services_[i]);
  return out;
}

const std::vector<const Resource*>& Context::destinationRulesFor(std::string_view fqdn) const {
  auto it = rulesByHost_.find(std::string(fqdn));
  return it == rulesByHost_.end() ? empty_ : it->second;
}

void Context::indexWorkloads() {
  for (const auto& [kind, list] : byKind_) {
    for (const Resource* r : list) {
      Workload w;
      w.resource = r;
      if (kind == "Pod") {
        w.isPod = true;
        w.labels = &r->labels();
        w.annotations = &r->annotations();
        w.podSpec = &r->spec();
      } else if (const Value* tmpl = podTemplate(*r)) {
        w.labels = &(*tmpl)["metadata"]["labels"];
        w.annotations = &(*tmpl)["metadata"]["annotations"];
        w.podSpec = &(*tmpl)["spec"];
      } else {
        continue;
      }
      workloadsByNs_[r->ns].push_back(workloads_.size());
      workloads_.push_back(w);
    }
  }
}

std::vector<const Workload*> Context::workloadsIn(std::string_view ns) const {
  std::vector<const Workload*> out;
  auto it = workloadsByNs_.find(std::string(ns));
  if (it == workloadsByNs_.end()) return out;
  for (size_t i : it->second) out.push_back(&workloads_[i]);
  return out;
}

std::vector<const Workload*> Context::selectWorkloads(const Value& selector,
                                                      std::string_view ns) const {
  std::vector<const Workload*> out;
  auto consider = [&](const Workload& w) {
    if (labelsMatch(selector, *w.labels)) out.push_back(&w);
  };
  if (ns.empty()) {
    for (const Workload& w : workloads_) consider(w);
  } else {
    auto it = workloadsByNs_.find(std::string(ns));
    if (it != workloadsByNs_.end()) {
      for (size_t i : it->second) consider(workloads_[i]);
    }
  }
  return out;
}

const Value& Context::namespaceLabels(std::string_view ns) const {
  static const Value none;
  const Resource* r = find("Namespace", "", ns);
  return r == nullptr ? none : r->labels();
}

bool Context::namespaceInjected(std::string_view ns) const {
  if (ns == "kube-system" || ns == "kube-public" || ns == "kube-node-lease") return false;
  const Value& labels = namespaceLabels(ns);
  const std::string legacy = labels.str("istio-injection");
  if (legacy == "enabled") return true;
  if (legacy == "disabled") return false;
  if (labels["istio.io/rev"].present()) return true;
  return injectionByDefault_;
}

void Context::detectInjectionDefault() {
  for (const Resource* r : ofKind("MutatingWebhookConfiguration")) {
    for (const Value& hook : r->doc["webhooks"].items()) {
      if (hook.str("name").find("sidecar-injector") == std::string::npos) continue;
      if (selectsUnlabelled(hook["namespaceSelector"])) injectionByDefault_ = true;
    }
  }
}

void Context::report(const MessageType& type, const Resource& resource, const Value* field,
                     std::string text) {
  if (resource.builtin()) return;  // the assumed ingress gateway is not the user's to fix
  Message m;
  m.type = &type;
  m.text = std::move(text);
  m.origin = resource.origin(field);
  messages_.push_back(std::move(m));
}

void Context::reportAt(const MessageType& type, const Resource& resource, int line,
                       std::string text) {
  if (resource.builtin()) return;
  Message m;
  m.type = &type;
  m.text = std::move(text);
  m.origin = resource.origin(nullptr);
  if (line > 0) m.origin.line = line;
  messages_.push_back(std::move(m));
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string bracketList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? " " : "") + items[i];
  return out + "]";
}

}  // namespace mesh::pilot::analysis
