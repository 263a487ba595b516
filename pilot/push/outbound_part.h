// OutboundPart: the outbound half of the config for one scope (pilot/compile/outbound.h),
// serialised once per push round and shared by every proxy of that scope: each item's JSON
// text is kept, so assembling a proxy's frame is string concatenation, and the delta from the
// previous round's part (changed and removed items) is computed once per scope too.
//
// A part that compiles to the same bytes as its predecessor is not replaced, so proxies of
// an unaffected scope get nothing at all.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pilot/compile/inbound.h"
#include "pilot/compile/outbound.h"

namespace mesh::pilot {

struct ItemList {
  std::vector<std::string> names;  // in snapshot order
  std::vector<std::string> texts;  // JSON of each item
};

// A route table kept as its virtual hosts, so a route change travels as one virtual host.
struct TableItems {
  std::string name;
  ItemList virtualHosts;
  bool operator==(const TableItems& o) const {
    return name == o.name && virtualHosts.names == o.virtualHosts.names &&
           virtualHosts.texts == o.virtualHosts.texts;
  }
};

struct OutboundPart {
  std::uint64_t id = 0;  // unique per distinct content
  std::string key;       // the scope key
  ItemList listeners, clusters;
  std::vector<TableItems> routeTables;
  std::string outboundTrafficPolicy;
  std::size_t bytes = 0;
  // The delta from `deltaBase` (the part this one replaced), when there was one.
  std::uint64_t deltaBase = 0;
  ItemList deltaListeners, deltaClusters;
  std::vector<TableItems> deltaRouteTables;  // whole tables the base did not have
  std::string deltaVirtualHosts;  // {"outbound": [changed virtual hosts]}, or empty
  std::string deltaRemoved;  // the JSON object {"clusters": [...], ...}, or empty
};

using OutboundPartPtr = std::shared_ptr<const OutboundPart>;

// Serialises `config`. When `previous` has the same content it is returned instead; else the
// new part carries the delta from `previous` (if any) and the id `nextId`.
OutboundPartPtr makeOutboundPart(const std::string& key, OutboundConfig config,
                                 const OutboundPartPtr& previous, std::uint64_t nextId);

// The per-proxy half, serialised.
struct InboundPart {
  std::string listener;
  std::string clusters;  // comma-joined JSON objects, possibly empty
  std::string authorizationPolicies;
  std::string requestAuthentications;
  bool operator==(const InboundPart&) const = default;
};
InboundPart makeInboundPart(const InboundConfig& config);

// A whole `snapshot` frame body, or a `delta` frame body against the part's deltaBase.
std::string snapshotMessage(const std::string& version, const OutboundPart& out,
                            const InboundPart& in);
std::string deltaMessage(const std::string& version, const std::string& baseVersion,
                         const OutboundPart& out, const InboundPart& in);

}  // namespace mesh::pilot
