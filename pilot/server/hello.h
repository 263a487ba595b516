// The `hello` message (docs/protocol.md) checked against the identity the proxy proved in
// the TLS handshake: its namespace and service account must be those of its certificate, so
// a proxy can only ever register endpoints for its own identity. Everything else in it is
// bounded and type-checked, since it comes from the network.
#pragma once

#include <nlohmann/json.hpp>

#include "core/base/status.h"
#include "core/tls/spiffe.h"
#include "pilot/compile/mesh_view.h"

namespace mesh::pilot {

struct Hello {
  ProxyInfo proxy;
  bool delta = false;  // the proxy applies `delta` frames
  // The proxy already runs a config (it is reconnecting, typically to a restarted pilot):
  // its workload serves now, and it must not be handed a less complete config than it has.
  bool serving = false;
};

// Code::invalid for a malformed hello, Code::denied for an identity mismatch.
core::Result<Hello> parseHello(const nlohmann::json& message, const core::SpiffeId& peer);

}  // namespace mesh::pilot
