// ServiceEntry analyzers: TCP-level ports without addresses (IST0134), and one host and port
// given different protocols by ServiceEntries (IST0177).
#include <cctype>
#include <map>
#include <set>

#include "pilot/analysis/analyzer.h"
#include "pilot/analysis/codes.h"
#include "pilot/analysis/protocol.h"

namespace mesh::pilot::analysis {

namespace {

void checkAddresses(Context& ctx) {
  for (const Resource* se : ctx.ofKind("ServiceEntry")) {
    if (se->spec()["addresses"].size() > 0) continue;
    for (const Value& port : se->spec()["ports"].items()) {
      if (!isTcpLevel(port.str("protocol"))) continue;
      ctx.report(codes::kServiceEntryAddressesRequired, *se, &port["protocol"],
                 "ServiceEntry addresses are required for this protocol.");
    }
  }
}

std::string upperProtocol(const Value& port) {
  std::string p = port.str("protocol");
  for (char& c : p) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return p;
}

void checkConflictingProtocols(Context& ctx) {
  struct Use {
    const Resource* se;
    const Value* port;
    std::string protocol;
  };
  std::map<std::string, std::vector<Use>> byHostPort;
  for (const Resource* se : ctx.ofKind("ServiceEntry")) {
    for (const Value& host : se->spec()["hosts"].items()) {
      for (const Value& port : se->spec()["ports"].items()) {
        const std::string k = host.text() + ":" + port["number"].text();
        byHostPort[k].push_back({se, &port, upperProtocol(port)});
      }
    }
  }
  for (const auto& [hostPort, uses] : byHostPort) {
    std::set<std::string> protocols;
    std::set<std::string> names;
    for (const Use& u : uses) {
      protocols.insert(u.protocol.empty() ? "<unset>" : u.protocol);
      names.insert(u.se->fullName());
    }
    if (protocols.size() < 2) continue;
    std::set<const Resource*> reported;
    for (const Use& u : uses) {
      if (!reported.insert(u.se).second) continue;
      ctx.report(codes::kConflictingServiceEntryProtocol, *u.se, u.port,
                 "Host and port " + hostPort + " are given different protocols " +
                     bracketList({protocols.begin(), protocols.end()}) + " by ServiceEntries " +
                     bracketList({names.begin(), names.end()}) + "; only one of them can apply.");
    }
  }
}

}  // namespace

void addServiceEntryAnalyzers(std::vector<Analyzer>& out) {
  out.push_back({"serviceentry.Analyzer",
                 "Checks ServiceEntries with TCP-level ports have addresses",
                 {&codes::kServiceEntryAddressesRequired}, checkAddresses});
  out.push_back({"serviceentry.ProtocolAnalyzer",
                 "Checks ServiceEntries agree on the protocol of each host and port",
                 {&codes::kConflictingServiceEntryProtocol}, checkConflictingProtocols});
}

}  // namespace mesh::pilot::analysis
