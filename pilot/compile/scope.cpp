#include "pilot/compile/scope.h"

#include "pilot/registry/spec_access.h"

namespace mesh::pilot {

using core::config::Resource;

bool exportedTo(const std::vector<std::string>& exportTo, const std::string& owner,
                const std::string& ns) {
  if (exportTo.empty()) return true;
  for (const auto& e : exportTo) {
    if (e == "*" || e == ns || (e == "." && owner == ns)) return true;
  }
  return false;
}

bool hostMatches(const std::string& pattern, const std::string& host) {
  if (pattern == "*") return true;
  if (pattern.starts_with("*.")) return host.ends_with(pattern.substr(1));
  return pattern == host;
}

namespace {

const Resource* selectSidecar(const MeshView& view, const std::string& ns, const Labels& labels) {
  const Resource* nsWide = nullptr;
  const Resource* rootWide = nullptr;
  for (const Resource* r : view.ofKind("Sidecar")) {
    const auto& selector = specChild(r->spec, "workloadSelector");
    bool hasSelector = selector.is_object();
    if (r->ns == ns && hasSelector && selectorMatches(specLabels(selector, "labels"), labels)) {
      return r;
    }
    if (r->ns == ns && !hasSelector && !nsWide) nsWide = r;
    if (r->ns == view.settings().rootNamespace && !hasSelector && !rootWide) rootWide = r;
  }
  return nsWide ? nsWide : rootWide;
}

}  // namespace

Scope::Scope(const MeshView& view, const std::string& ns, const Labels& labels) : ns_(ns) {
  sidecar_ = selectSidecar(view, ns, labels);
  key_ = ns;
  if (!sidecar_) return;
  key_ += "|" + sidecar_->ns + "/" + sidecar_->name;
  const auto& egress = specChild(sidecar_->spec, "egress");
  if (!egress.is_array()) return;
  for (const auto& listener : egress) {
    for (const auto& entry : specStrings(listener, "hosts")) {
      auto slash = entry.find('/');
      if (slash == std::string::npos) continue;  // validation requires ns/host
      EgressHost h{entry.substr(0, slash), entry.substr(slash + 1)};
      if (h.ns == ".") h.ns = ns;
      if (h.ns == "~") continue;
      egress_.push_back(std::move(h));
    }
  }
}

Scope Scope::forGateway(const std::string& ns) {
  Scope scope;
  scope.ns_ = ns;
  scope.key_ = "gateway|" + ns;
  return scope;
}

bool Scope::egressAllows(const Service& service) const {
  if (!sidecar_) return true;
  for (const auto& h : egress_) {
    if (h.ns != "*" && h.ns != service.ns) continue;
    if (hostMatches(h.host, service.host)) return true;
    // A short name written for a Kubernetes service: "reviews" in "default/reviews".
    if (service.kind == "Service" && h.host == service.name) return true;
  }
  return false;
}

bool Scope::visible(const Service& service) const {
  return exportedTo(service.exportTo, service.ns, ns_) && egressAllows(service);
}

bool Scope::exported(const Resource& r) const {
  return exportedTo(specStrings(r.spec, "exportTo"), r.ns, ns_);
}

}  // namespace mesh::pilot
