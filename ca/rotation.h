// Root rotation for a CA that manages its data directory, in three steps with an overlap, so
// that no workload ever meets a certificate it cannot verify:
//
//   begin     a new root is generated (next-root-cert.pem / next-root-key.pem) and added to
//             trust-bundle.pem; the old root still signs. Workloads pick up the two-root bundle
//             at their next renewal.
//   activate  the new root becomes root-cert.pem / root-key.pem and signs from now on; the old
//             one stays in the bundle (kept as previous-root-cert.pem). Workloads are re-issued
//             under the new root at their next renewal.
//   finish    the old root leaves the bundle.
//
// Wait at least one workload certificate lifetime between steps (docs/ca.md). The running CA
// notices each step by re-reading its files (see loadIssuer()); these functions only touch
// files, each written atomically, in an order that a concurrent reader can never see a root
// key that does not match its certificate and be forced to use it.
#pragma once

#include <chrono>
#include <string>

#include "ca/root_store.h"
#include "core/base/clock.h"
#include "core/base/status.h"

namespace mesh::ca {

enum class RotationPhase {
  idle,    // one root
  staged,  // begin done: new root trusted, old root signing
  active,  // activate done: new root signing, old root still trusted
};
const char* rotationPhaseName(RotationPhase phase);

core::Result<RotationPhase> rotationPhase(const std::string& dataDir);

core::Status beginRootRotation(const RootSource& source, const core::Clock& clock);
core::Status activateRootRotation(const std::string& dataDir);
core::Status finishRootRotation(const std::string& dataDir);

// One line per trusted root, for `mesh ca rotate-root status`.
core::Result<std::string> describeRoots(const std::string& dataDir, const core::Clock& clock);

}  // namespace mesh::ca
