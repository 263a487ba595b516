// DestinationRule analyzers: TLS origination without server verification (IST0128, IST0129),
// subsets that select no pod of their service (IST0173), and hosts no service has (IST0174).
#include "pilot/analysis/analyzer.h"
#include "pilot/analysis/codes.h"
#include "pilot/analysis/route_util.h"

namespace mesh::pilot::analysis {

namespace {

// SIMPLE and MUTUAL originate TLS; without a CA (or a secret that carries one) the server's
// certificate is not verified.
bool unverifiedTls(const Value& tls) {
  const std::string mode = tls.str("mode");
  if (mode != "SIMPLE" && mode != "MUTUAL") return false;
  bool skip = false;
  if (tls["insecureSkipVerify"].asBool(skip) && skip) return false;
  return tls.str("caCertificates").empty() && tls.str("credentialName").empty();
}

void checkServerVerification(Context& ctx) {
  for (const Resource* dr : ctx.ofKind("DestinationRule")) {
    const Value& policy = dr->spec()["trafficPolicy"];
    const std::string host = dr->spec().str("host");
    const std::string ns = dr->writtenNs.empty() ? dr->ns : dr->writtenNs;
    const Value& tls = policy["tls"];
    if (unverifiedTls(tls)) {
      ctx.report(codes::kNoServerCertificateVerificationDestinationLevel, *dr, &tls["mode"],
                 "DestinationRule " + dr->name + " in namespace " + ns + " has TLS mode set to " +
                     tls.str("mode") + " but no caCertificates are set to validate server " +
                     "identity for host: " + host);
    }
    for (const Value& port : policy["portLevelSettings"].items()) {
      const Value& portTls = port["tls"];
      if (!unverifiedTls(portTls)) continue;
      ctx.report(codes::kNoServerCertificateVerificationPortLevel, *dr, &portTls["mode"],
                 "DestinationRule " + dr->name + " in namespace " + ns + " has TLS mode set to " +
                     portTls.str("mode") + " but no caCertificates are set to validate server " +
                     "identity for host: " + host + " at port " + port["port"].str("number"));
    }
  }
}

void checkSubsetsSelectPods(Context& ctx) {
  for (const Resource* dr : ctx.ofKind("DestinationRule")) {
    const ServiceInfo* svc = ctx.lookupHost(ctx.fqdn(dr->spec().str("host"), dr->ns));
    if (svc == nullptr) continue;
    const auto workloads = serviceWorkloads(ctx, *svc);
    // Without any workload of the service in the input, a subset cannot be judged.
    if (workloads.empty()) continue;
    for (const Value& subset : dr->spec()["subsets"].items()) {
      bool selects = false;
      for (const Workload* w : workloads) {
        selects = selects || labelsMatch(subset["labels"], *w->labels);
      }
      if (selects) continue;
      ctx.report(codes::kDestinationRuleSubsetNotSelectPods, *dr, &subset,
                 "The Subset " + subset.str("name") + " defined in the DestinationRule does not " +
                     "select any pods, which may lead to 503 UH (NoHealthyUpstream).");
    }
  }
}

void checkUnknownHost(Context& ctx) {
  for (const Resource* dr : ctx.ofKind("DestinationRule")) {
    const Value& host = dr->spec()["host"];
    if (host.text().empty() || host.text().find('*') != std::string::npos) continue;
    if (ctx.lookupHost(ctx.fqdn(host.text(), dr->ns)) != nullptr) continue;
    ctx.report(codes::kUnknownDestinationRuleHost, *dr, &host,
               "DestinationRule for non-existent service registry host " + quote(host.text()) +
                   ".");
  }
}

}  // namespace

void addDestinationRuleAnalyzers(std::vector<Analyzer>& out) {
  out.push_back({"destinationrule.CaCertificateAnalyzer",
                 "Checks DestinationRules that originate TLS verify the server certificate",
                 {&codes::kNoServerCertificateVerificationDestinationLevel,
                  &codes::kNoServerCertificateVerificationPortLevel},
                 checkServerVerification});
  out.push_back({"destinationrule.PodNotSelectedAnalyzer",
                 "Checks each DestinationRule subset selects at least one pod of its service",
                 {&codes::kDestinationRuleSubsetNotSelectPods}, checkSubsetsSelectPods});
  out.push_back({"destinationrule.UnknownHostAnalyzer",
                 "Checks the host of a DestinationRule is a known service",
                 {&codes::kUnknownDestinationRuleHost}, checkUnknownHost});
}

}  // namespace mesh::pilot::analysis
