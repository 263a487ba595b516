// One proxy's whole snapshot: the outbound half for its scope (a gateway's listeners for a
// gateway) plus its own inbound half.
// Pilot's push path compiles the halves separately (the outbound half once per scope, see
// pilot/push/outbound_part.h); this joins them for tests, `mesh pilot` debug pages and any
// caller that wants one model::Snapshot.
#pragma once

#include "core/model/snapshot.h"
#include "pilot/compile/gateway.h"
#include "pilot/compile/inbound.h"
#include "pilot/compile/mesh_view.h"
#include "pilot/compile/outbound.h"
#include "pilot/compile/scope.h"

namespace mesh::pilot {

core::model::Snapshot compileSnapshot(const MeshView& view, const ProxyInfo& proxy);

}  // namespace mesh::pilot
