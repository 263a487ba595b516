// The config of a gateway proxy (`mesh proxy --gateway`, Istio's "router"): every Gateway
// whose selector matches the proxy's labels, in any namespace, contributes its servers.
// Servers on one port number share a listener on the gateway's address; its route table
// ("http.<port>" or "https.<port>") has a virtual host per host name that a VirtualService
// bound to one of the Gateways (its `gateways` naming "name" in its own namespace or
// "ns/name") has in common with the server's `hosts`. The routes are those sidecars get
// (pilot/compile/http_route.h), and the destinations are the same clusters, compiled as for
// a sidecar of the gateway's namespace (exportTo applies; Sidecar resources do not). A host
// no VirtualService binds has no virtual host: the proxy answers 404 (NR). A server with
// `tls.httpsRedirect` answers every request for its hosts with a 301 to https, with or
// without VirtualServices.
//
// HTTPS servers with tls.mode SIMPLE or MUTUAL and certificate files (serverCertificate,
// privateKey, caCertificates) or a credentialName (a Secret in the gateway's namespace,
// sent as PEM text) terminate TLS on their listener; servers of one port with different
// certificates are told apart by the client's SNI.
// A TCP server forwards to one destination of the bound tcp routes. Servers the proxy
// cannot serve yet (PASSTHROUGH, protocol TLS...) are left out.
#pragma once

#include <string>
#include <vector>

#include "core/config/resource.h"
#include "pilot/compile/mesh_view.h"
#include "pilot/compile/outbound.h"

namespace mesh::pilot {

// Listeners, route tables and clusters for one gateway proxy (no capture listener).
OutboundConfig compileGateway(const MeshView& view, const ProxyInfo& proxy);

// Gateway proxies with the same key get the same config, compiled once per push round.
std::string gatewayScopeKey(const ProxyInfo& proxy);

// The Gateways whose selector matches these workload labels (an empty selector matches all).
std::vector<const core::config::Resource*> gatewaysFor(const MeshView& view, const Labels& labels);

// The host names a VirtualService host and a Gateway server host (without its "ns/") have in
// common, as Istio intersects them: the more specific of the two when one covers the other
// ("*" covers everything, "*.example.com" covers its subdomains), else "".
std::string intersectHosts(const std::string& vsHost, const std::string& serverHost);

}  // namespace mesh::pilot
