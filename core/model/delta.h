// Snapshot deltas (docs/protocol.md, `delta`): the items of a snapshot that changed since a
// base version, so a one-service change costs that service's bytes instead of the whole
// mesh's. Items are keyed by name: listeners, route tables and clusters are replaced or
// added whole, or removed by name; inside a route table both sides have, virtual hosts are
// replaced, added or removed one by one (one big outbound table would otherwise travel whole
// for any route change); the policy lists, when present, replace the old ones.
// makeDelta() is pilot's side, applyDelta() the proxy's; applying the delta to the base
// gives exactly the new snapshot.
#pragma once

#include <nlohmann/json.hpp>

#include "core/base/status.h"
#include "core/model/snapshot.h"

namespace mesh::core::model {

// The `config` of a delta frame taking `base` to `next` (version is next's).
nlohmann::json makeDelta(const Snapshot& base, const Snapshot& next);

// `base` with `delta` applied, checked like a full snapshot (every reference must resolve).
// Errors name the item, as parseSnapshot's do.
Result<Snapshot> applyDelta(const Snapshot& base, const nlohmann::json& delta);

}  // namespace mesh::core::model
