// The TLS server context of a gateway listener that terminates TLS (a Gateway server with
// tls.mode SIMPLE or MUTUAL and certificate files, Istio's ServerTLSSettings), with the
// further certificates other servers of the port present to clients asking (SNI) for their
// hosts. The files are
// read when a snapshot is applied, so a missing or bad file NACKs the snapshot and the
// running config stays; each snapshot reads them again, which is how a renewed certificate
// on disk takes effect.
#pragma once

#include <memory>

#include "core/base/status.h"
#include "core/model/listener.h"
#include "core/tls/context.h"

namespace mesh::proxy {

// SIMPLE: present serverCertificate/privateKey, ask nothing of the client. MUTUAL: also
// require a client certificate that verifies against caCertificates (any subject: clients
// of a gateway are not mesh workloads). Other modes are refused. A client whose SNI matches
// a sniCertificates entry ("*.example.com" wildcards too) gets that certificate instead.
core::Result<std::shared_ptr<core::TlsContext>> gatewayServerContext(
    const core::model::Listener& listener);

}  // namespace mesh::proxy
