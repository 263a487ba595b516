// `mesh proxy-status`: asks a pilot's monitoring port for /debug/syncz and prints Istio's
// table, one line per connected proxy:
//
//   NAME                 CLUSTER      CONFIG   PILOT        VERSION
//   reviews-v1.default   Kubernetes   SYNCED   mesh-pilot   2026-11-25T20:00:00Z/17
//
// CONFIG is SYNCED (the last snapshot sent was ACKed), STALE (sent, not answered yet),
// NACKED (refused: the reason follows the table) or NOT SENT.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/status.h"
#include "core/loop/address.h"

namespace mesh::pilot {

// GET `path` from an HTTP/1.1 server (pilot's monitoring port) and return the body of a 200.
core::Result<std::string> httpGet(const core::SocketAddress& address, const std::string& path,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(5));

// Rows (the first is the header) as columns padded to the widest cell plus three spaces; the
// layout of every table `mesh proxy-status` and `mesh proxy-config` print.
std::string formatColumns(const std::vector<std::vector<std::string>>& rows);

// The table for a /debug/syncz document.
std::string formatProxyStatus(const nlohmann::json& syncz);

}  // namespace mesh::pilot
