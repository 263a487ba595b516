// Sidecar injection analyzers: namespaces without an injection label (IST0102, or IST0148
// when the injector's webhook covers them by default), namespaces with both the legacy and
// the revision label (IST0123), pods of injected namespaces without a sidecar (IST0103), and
// `image: auto` gateway workloads that no injector would fill in (IST0146, IST0147).
#include "pilot/analysis/analyzer.h"
#include "pilot/analysis/codes.h"

namespace mesh::pilot::analysis {

namespace {

bool skippedNamespace(const Context& ctx, const std::string& ns) {
  return ns == "kube-system" || ns == "kube-public" || ns == "kube-node-lease" ||
         ns == "local-path-storage" || ns == ctx.settings().rootNamespace;
}

void checkNamespaces(Context& ctx) {
  for (const Resource* ns : ctx.ofKind("Namespace")) {
    if (skippedNamespace(ctx, ns->name)) continue;
    const Value& labels = ns->labels();
    const bool legacy = labels["istio-injection"].present();
    const bool revision = labels["istio.io/rev"].present();
    if (legacy && revision) {
      ctx.report(codes::kNamespaceMultipleInjectionLabels, *ns, &labels,
                 "The namespace has both new and legacy injection labels. Run 'kubectl label " +
                     std::string("namespace ") + ns->name + " istio.io/rev-' or 'kubectl label " +
                     "namespace " + ns->name + " istio-injection-'");
      continue;
    }
    if (legacy || revision || labels.str("istio.io/dataplane-mode") == "ambient") continue;
    if (ctx.injectionEnabledByDefault()) {
      ctx.report(codes::kNamespaceInjectionEnabledByDefault, *ns, nullptr,
                 "The namespace " + ns->name + " is enabled for Istio injection by default, as " +
                     "the sidecar injector's webhook selects namespaces without an injection " +
                     "label.");
      continue;
    }
    ctx.report(codes::kNamespaceNotInjected, *ns, nullptr,
               "The namespace is not enabled for Istio injection. Run 'kubectl label namespace " +
                   ns->name + " istio-injection=enabled' to enable it, or 'kubectl label " +
                   "namespace " + ns->name + " istio-injection=disabled' to explicitly mark it " +
                   "as not needing injection.");
  }
}

// Whether the injector would add a sidecar to this workload's pods.
bool injected(const Context& ctx, const Workload& w) {
  const std::string annotation = (*w.annotations).str("sidecar.istio.io/inject");
  const std::string label = (*w.labels).str("sidecar.istio.io/inject");
  if (annotation == "false" || label == "false") return false;
  if (label == "true") return true;
  return ctx.namespaceInjected(w.ns());
}

bool hasProxy(const Value& podSpec) {
  for (const char* list : {"containers", "initContainers"}) {
    for (const Value& c : podSpec[list].items()) {
      if (c.str("name") == "istio-proxy") return true;
    }
  }
  return false;
}

void checkPods(Context& ctx) {
  for (const Workload& w : ctx.workloads()) {
    if (!w.isPod || !injected(ctx, w) || hasProxy(*w.podSpec)) continue;
    bool hostNetwork = false;
    if ((*w.podSpec)["hostNetwork"].asBool(hostNetwork) && hostNetwork) continue;
    ctx.report(codes::kPodMissingProxy, *w.resource, nullptr,
               "The pod " + w.resource->name + " is missing the Istio proxy. This can often be " +
                   "resolved by restarting or redeploying the workload.");
  }
}

void checkImageAuto(Context& ctx) {
  for (const Workload& w : ctx.workloads()) {
    if (injected(ctx, w)) continue;
    for (const Value& c : (*w.podSpec)["containers"].items()) {
      if (c.str("image") != "auto") continue;
      const MessageType& type =
          w.isPod ? codes::kImageAutoWithoutInjectionError : codes::kImageAutoWithoutInjectionWarning;
      ctx.report(type, *w.resource, &c["image"],
                 w.resource->kind + " " + w.resource->name +
                     " contains `image: auto` but does not match any Istio injection webhook " +
                     "selectors.");
      break;
    }
  }
}

}  // namespace

void addInjectionAnalyzers(std::vector<Analyzer>& out) {
  out.push_back({"injection.Analyzer",
                 "Checks namespaces are labelled for injection and injected pods have a sidecar",
                 {&codes::kNamespaceNotInjected, &codes::kNamespaceMultipleInjectionLabels,
                  &codes::kNamespaceInjectionEnabledByDefault, &codes::kPodMissingProxy},
                 [](Context& ctx) {
                   checkNamespaces(ctx);
                   checkPods(ctx);
                 }});
  out.push_back({"injection.ImageAutoAnalyzer",
                 "Checks workloads using `image: auto` are covered by sidecar injection",
                 {&codes::kImageAutoWithoutInjectionWarning,
                  &codes::kImageAutoWithoutInjectionError},
                 checkImageAuto});
}

}  // namespace mesh::pilot::analysis
