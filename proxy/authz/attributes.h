// What an authorization check knows about a request or a connection. Views into the
// request's own storage: built on the stack for one check, never kept.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/http/header_map.h"
#include "proxy/authz/ip_block.h"

namespace mesh::proxy::authz {

struct Attributes {
  // false for a TCP connection: HTTP-only fields (hosts, methods, paths, requestPrincipals,
  // request.headers, request.auth.*) have nothing to match.
  bool http = true;
  // The peer's identity from its mTLS certificate, without "spiffe://"
  // ("cluster.local/ns/default/sa/sleep"); empty for plain text.
  std::string_view principal;
  std::optional<IpAddress> sourceIp;  // the downstream connection's address
  std::optional<IpAddress> remoteIp;  // the original client (source.ip unless known better)
  std::optional<IpAddress> destinationIp;
  uint32_t destinationPort = 0;       // the workload port
  std::string_view sni;               // connection.sni
  // HTTP
  std::string_view host;
  std::string_view method;
  std::string_view path;              // without the query
  const core::http::HeaderMap* headers = nullptr;
  // request.auth.*: set when the request carried a valid JWT (RequestAuthentication).
  std::string_view requestPrincipal;  // "<iss>/<sub>"
  const nlohmann::json* claims = nullptr;

  // "default" from "cluster.local/ns/default/sa/sleep"; empty without a principal.
  std::string_view sourceNamespace() const;
};

}  // namespace mesh::proxy::authz
