// Peer metadata exchange: how two sidecars learn each other's workload for Istio's metric
// labels (source_workload, destination_app, ...), which a certificate alone does not say.
//
// The calling sidecar adds `x-mesh-peer-metadata` to a request it sends over mTLS to another
// sidecar; the server sidecar reads it, removes it before the app, and answers with its own
// in the response, which the calling sidecar reads and removes before its app. A value is
// only believed when it came over a mutually authenticated connection, and it never reaches
// an application in either direction. The principal is never part of it: that comes from the
// peer's certificate.
//
// Encoding: comma-separated `key=value` pairs, keys w (workload name), n (namespace), a (app
// label), v (version label), c (cluster id); bytes outside [A-Za-z0-9._-] in values are
// percent-encoded. Unknown keys are ignored so that a newer peer may add some.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mesh::proxy::telemetry {

inline constexpr std::string_view kPeerMetadataHeader = "x-mesh-peer-metadata";
// Longer values are refused: metadata is a handful of short names.
inline constexpr size_t kMaxPeerMetadataSize = 1024;

struct PeerMetadata {
  std::string workload;
  std::string ns;
  std::string app;
  std::string version;
  std::string cluster;

  bool operator==(const PeerMetadata&) const = default;
};

std::string encodePeerMetadata(const PeerMetadata& metadata);
// Nothing for a value that is too long, has a pair without '=', a bad escape, or no workload.
std::optional<PeerMetadata> decodePeerMetadata(std::string_view value);
// Whether decodePeerMetadata would accept `value`, without building the strings: every
// request over mTLS checks the header, and only a new series needs it decoded.
bool isValidPeerMetadata(std::string_view value);

}  // namespace mesh::proxy::telemetry
