// CaptureTable: what the outbound capture listener (15001) does with a connection that
// iptables redirected to it, decided from its original destination (SO_ORIGINAL_DST) alone,
// before any byte is read, so that protocols where the server speaks first work:
//   - the address and port of a `tcp` listener (a service's TCP port): TCP proxy to that
//     listener's cluster;
//   - the address and port of an HTTP service (a virtual host domain "ip:port"): HTTP,
//     routed by Host, the original port standing in when Host has none;
//   - anything else: with ALLOW_ANY, bytes pass through unchanged to the original
//     destination (Istio's PassthroughCluster); with REGISTRY_ONLY, the connection is closed.
// One per worker, rebuilt from each snapshot it serves. Also: which `tcp` listeners carry an
// address that is not this host's (a service's virtual IP) and so are reached only through
// capture, never bound.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "core/loop/address.h"
#include "core/model/snapshot.h"

namespace mesh::proxy::capture {

struct CaptureDecision {
  enum class Kind { http, tcp, passthrough, refuse };
  Kind kind = Kind::refuse;
  std::string cluster;  // tcp: the listener's cluster
};

const char* kindName(CaptureDecision::Kind kind);

class CaptureTable {
 public:
  void update(const core::model::Snapshot& snapshot);
  CaptureDecision classify(const core::SocketAddress& original) const;

 private:
  std::map<std::string, std::string> tcp_;  // "ip:port" -> cluster
  std::set<std::string> http_;              // "ip:port"
  bool allowAny_ = true;
};

// True for an outbound `tcp` listener whose address cannot be bound here: a service's virtual
// IP, which no interface has; its connections arrive through the capture listener.
bool reachedOnlyThroughCapture(const core::model::Listener& listener);

}  // namespace mesh::proxy::capture
