// Gateway analyzers: selectors that match no gateway pod and TLS secrets that do not exist
// (IST0101), ports the gateway's Service does not expose (IST0162), gateways on one workload
// and port claiming the same host (IST0145), and certificates shared by gateways (IST0138).
#include <map>
#include <set>

#include "pilot/analysis/analyzer.h"
#include "pilot/analysis/codes.h"

namespace mesh::pilot::analysis {

namespace {

const Value& selectorOf(const Resource& gw) { return gw.spec()["selector"]; }

void checkSelectorAndSecrets(Context& ctx) {
  for (const Resource* gw : ctx.ofKind("Gateway")) {
    const Value& selector = selectorOf(*gw);
    if (selector.size() == 0) continue;
    const auto pods = ctx.selectWorkloads(selector, "");
    if (pods.empty()) {
      ctx.report(codes::kReferencedResourceNotFound, *gw, &selector,
                 "Referenced selector not found: " + quote(selectorString(selector)));
      continue;
    }
    std::set<std::string> podNamespaces;
    for (const Workload* p : pods) podNamespaces.insert(p->ns());
    for (const Value& server : gw->spec()["servers"].items()) {
      const Value& tls = server["tls"];
      const std::string mode = tls.str("mode");
      const Value& credential = tls["credentialName"];
      if (credential.text().empty()) continue;
      if (mode != "SIMPLE" && mode != "MUTUAL" && mode != "OPTIONAL_MUTUAL") continue;
      for (const std::string& ns : podNamespaces) {
        if (ctx.find("Secret", ns, credential.text()) != nullptr) continue;
        ctx.report(codes::kReferencedResourceNotFound, *gw, &credential,
                   "Referenced credentialName not found: " + quote(credential.text()));
        break;
      }
    }
  }
}

void checkPortsOnService(Context& ctx) {
  for (const Resource* gw : ctx.ofKind("Gateway")) {
    const Value& selector = selectorOf(*gw);
    if (selector.size() == 0) continue;
    std::set<long long> targetPorts;
    bool anyService = false;
    for (const Workload* pod : ctx.selectWorkloads(selector, "")) {
      for (const ServiceInfo* svc : ctx.servicesIn(pod->ns())) {
        if (svc->selector == nullptr || svc->selector->size() == 0) continue;
        if (!labelsMatch(*svc->selector, *pod->labels)) continue;
        anyService = true;
        for (const ServicePort& p : svc->ports) {
          long long n = 0;
          if (p.field != nullptr && (*p.field)["targetPort"].asInt(n)) targetPorts.insert(n);
          else targetPorts.insert(p.number);
        }
      }
    }
    if (!anyService) continue;
    for (const Value& server : gw->spec()["servers"].items()) {
      const Value& number = server["port"]["number"];
      long long port = 0;
      if (!number.asInt(port) || targetPorts.count(port) > 0) continue;
      ctx.report(codes::kGatewayPortNotDefinedOnService, *gw, &number,
                 "The gateway is listening on a target port (port " + std::to_string(port) +
                     ") that is not defined in the Service associated with its workload " +
                     "instances (Pod selector " + selectorString(selector) + "). If you need " +
                     "to access the gateway port through the gateway Service, it will not be " +
                     "available.");
    }
  }
}

struct ServerClaim {
  const Resource* gw;
  const Value* server;
  std::vector<std::string> hosts;
};

std::string hostPart(const std::string& h) {
  auto slash = h.find('/');
  return slash == std::string::npos ? h : h.substr(slash + 1);
}

void checkConflicts(Context& ctx) {
  std::map<std::string, std::vector<ServerClaim>> groups;  // selector + port
  for (const Resource* gw : ctx.ofKind("Gateway")) {
    const std::string selector = selectorString(selectorOf(*gw));
    for (const Value& server : gw->spec()["servers"].items()) {
      ServerClaim claim{gw, &server, {}};
      for (const Value& h : server["hosts"].items()) claim.hosts.push_back(hostPart(h.text()));
      groups[selector + "\n" + server["port"].str("number")].push_back(claim);
    }
  }
  for (const auto& [key, claims] : groups) {
    const std::string selector = key.substr(0, key.find('\n'));
    const std::string port = key.substr(key.find('\n') + 1);
    for (const ServerClaim& a : claims) {
      std::vector<std::string> others;
      std::set<std::string> shared;
      for (const ServerClaim& b : claims) {
        if (a.gw == b.gw) continue;
        bool conflict = false;
        for (const std::string& ha : a.hosts) {
          for (const std::string& hb : b.hosts) {
            if (ha == hb) {
              conflict = true;
              shared.insert(ha);
            }
          }
        }
        if (conflict) others.push_back(b.gw->fullName());
      }
      if (others.empty()) continue;
      std::string names;
      for (const std::string& o : others) names += (names.empty() ? "" : ",") + o;
      ctx.report(codes::kConflictingGateways, *a.gw, a.server,
                 "Conflict with gateways " + names + " (workload selector " + selector +
                     ", port " + port + ", hosts " +
                     bracketList({shared.begin(), shared.end()}) + ").");
    }
  }
}

void checkDuplicateCertificates(Context& ctx) {
  std::map<std::string, std::vector<const Resource*>> byCertificate;
  for (const Resource* gw : ctx.ofKind("Gateway")) {
    std::set<std::string> mine;
    for (const Value& server : gw->spec()["servers"].items()) {
      const Value& tls = server["tls"];
      std::string cert = tls.str("credentialName");
      if (cert.empty()) cert = tls.str("serverCertificate");
      if (cert.empty()) continue;
      const std::string key = selectorString(selectorOf(*gw)) + "\n" + cert;
      if (mine.insert(key).second) byCertificate[key].push_back(gw);
    }
  }
  for (const auto& [cert, gateways] : byCertificate) {
    if (gateways.size() < 2) continue;
    std::vector<std::string> names;
    for (const Resource* gw : gateways) names.push_back(gw->fullName());
    for (const Resource* gw : gateways) {
      ctx.report(codes::kGatewayDuplicateCertificate, *gw, nullptr,
                 "Duplicate certificate in multiple gateways " + bracketList(names) +
                     " may cause 404s if HTTP/2 connection coalescing occurs.");
    }
  }
}

}  // namespace

void addGatewayAnalyzers(std::vector<Analyzer>& out) {
  out.push_back({"gateway.IngressGatewayPortAnalyzer",
                 "Checks a Gateway selects gateway pods and its TLS secrets exist",
                 {&codes::kReferencedResourceNotFound}, checkSelectorAndSecrets});
  out.push_back({"gateway.GatewayPortAnalyzer",
                 "Checks the ports a Gateway listens on are target ports of its Service",
                 {&codes::kGatewayPortNotDefinedOnService}, checkPortsOnService});
  out.push_back({"gateway.ConflictingGatewayAnalyzer",
                 "Checks Gateways on one workload and port do not claim the same host",
                 {&codes::kConflictingGateways}, checkConflicts});
  out.push_back({"gateway.CertificateAnalyzer",
                 "Checks no two Gateways on one workload share a TLS certificate",
                 {&codes::kGatewayDuplicateCertificate}, checkDuplicateCertificates});
}

}  // namespace mesh::pilot::analysis
