// The proxy-level listener model: where a proxy accepts connections and what it does with
// them. Outbound listeners route by the Host of HTTP requests (or forward TCP to one
// cluster); the inbound listener terminates mTLS from other sidecars and hands requests to
// the local app; gateway listeners serve Gateway resources.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mesh::core::model {

// PeerAuthentication's mode, resolved for one workload port.
enum class MtlsMode { strict, permissive, disable };

// One port of the local workload, as seen by the inbound listener.
struct InboundPort {
  uint32_t port = 0;            // the workload's port (the original destination)
  std::string protocol = "http";  // http | tcp
  std::string cluster;          // e.g. "inbound|9080||", the local app
  MtlsMode mtls = MtlsMode::permissive;
};

struct ServerTls {
  enum class Mode { passthrough, simple, mutual, istio_mutual };
  Mode mode = Mode::simple;
  std::string credentialName;
  std::string serverCertificate;  // files, as in Istio's ServerTLSSettings
  std::string privateKey;
  std::string caCertificates;
  // The same as PEM text, which pilot fills in from the Secret a credentialName names (the
  // files above are then empty). The key is secret: /config_dump shows it redacted.
  std::string serverCertificatePem;
  std::string privateKeyPem;
  std::string caCertificatesPem;
  bool httpsRedirect = false;
};

// gateway: another certificate on a listener that terminates TLS, for clients whose SNI is
// one of `hosts` (names or "*.example.com"); the listener's `tls` serves the others and
// decides client verification for all.
struct SniCertificate {
  std::vector<std::string> hosts;
  std::string serverCertificate;
  std::string privateKey;
  std::string serverCertificatePem;  // from a credentialName, as in ServerTls
  std::string privateKeyPem;
};

// A gateway PASSTHROUGH server's route: connections whose TLS ClientHello names one of
// `sniHosts` ("web.example.com", "*.example.com" or "*") go, still encrypted, to `cluster`.
struct SniRoute {
  std::vector<std::string> sniHosts;
  std::string cluster;
};

struct Listener {
  enum class Direction { outbound, inbound, gateway };
  std::string name;
  std::string address = "127.0.0.1";
  uint32_t port = 0;  // 0: the proxy picks a free port and reports it
  Direction direction = Direction::outbound;
  // outbound and gateway: "http" routes with routeTable; "tcp" forwards to cluster;
  // gateway "tls" forwards TLS unopened by the client's SNI (sniRoutes, first match wins).
  std::string protocol = "http";
  std::string routeTable;
  std::string cluster;
  // The outbound capture listener (15001) also takes plain-HTTP proxy requests and
  // transparently captured connections (SO_ORIGINAL_DST).
  bool capture = false;
  // inbound: the workload's ports.
  std::vector<InboundPort> inboundPorts;
  MtlsMode defaultMtls = MtlsMode::permissive;
  // gateway: TLS termination for this server port.
  bool hasTls = false;
  ServerTls tls;
  std::vector<SniCertificate> sniCertificates;
  std::vector<std::string> hosts;  // gateway: hosts this server answers for
  std::vector<SniRoute> sniRoutes;
};

}  // namespace mesh::core::model
