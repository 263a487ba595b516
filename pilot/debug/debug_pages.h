// Pilot's monitoring port (15014): /metrics and the /debug pages istiod users know, as JSON:
//   /debug/syncz     per proxy: version sent, ACKed, NACKed and why, and the sync state
//                    (SYNCED, STALE: sent but not ACKed yet, NACKED, NOT SENT)
//   /debug/configz   the resources served, the errors of the latest load, skipped kinds
//   /debug/registryz services with their ports and endpoints
//   /ready           200 once the first configuration has been loaded
// The pages read the Pusher's state; they never change it.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/admin/admin_server.h"
#include "core/metrics/registry.h"
#include "pilot/push/pusher.h"

namespace mesh::pilot {

// "SYNCED", "STALE", "NACKED" or "NOT SENT".
std::string syncState(const ProxySyncStatus& status);

nlohmann::json syncz(const Pusher& pusher, const std::string& pilotName);
nlohmann::json configz(const ConfigSet& config);
nlohmann::json registryz(const MeshView& view);

// Installs every route above on `admin`. Everything is borrowed and must outlive `admin`.
void installDebugPages(core::AdminServer& admin, const Pusher& pusher,
                       const core::metrics::Registry& registry, std::string pilotName);

}  // namespace mesh::pilot
