// RequestState: the downstream request as the filters and the router see and change it.
// Its HeaderMap owns its bytes (copied out of the read buffer once, when the head arrives),
// so it lives as long as the request whatever happens to the connection's buffers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "core/http/header_map.h"
#include "core/http/message.h"
#include "core/loop/address.h"

namespace mesh::proxy {

struct RequestState {
  core::http::HeaderMap headers;
  core::http::Method method = core::http::Method::get;
  std::string methodName;
  std::string path;       // origin-form, query included; absolute-form is turned into this
  std::string authority;  // from the absolute URI, else the Host header
  std::string scheme = "http";
  core::http::Version version;
  bool keepAlive = true;
  bool upgrade = false;
  bool chunked = false;
  std::optional<uint64_t> contentLength;
  core::SocketAddress peer;
  uint32_t port = 0;  // the listener's port
  // Came through the inbound listener: from another sidecar (mTLS) or a plain-text client.
  bool inbound = false;
  // Came through a gateway listener: the gateway's own AuthorizationPolicy and
  // RequestAuthentication apply, as on a sidecar's inbound side.
  bool gateway = false;
  // Inbound over mTLS: the peer's SPIFFE id without "spiffe://" (AuthorizationPolicy's
  // principal) and the server name it asked for; empty for plain text. Kept in the headers'
  // arena, which lives as long as the request.
  std::string_view peerPrincipal;
  std::string_view serverName;
  // Set by JwtFilter when the request carried a valid JWT (RequestAuthentication):
  // AuthorizationPolicy's requestPrincipals ("<iss>/<sub>") and request.auth.claims.
  std::string requestPrincipal;
  std::shared_ptr<const nlohmann::json> jwtClaims;

  bool hasBody() const { return chunked || (contentLength && *contentLength > 0); }
  std::string_view pathOnly() const {
    std::string_view p = path;
    return p.substr(0, p.find('?'));
  }
  std::string_view query() const {
    size_t q = path.find('?');
    return q == std::string::npos ? std::string_view{} : std::string_view(path).substr(q + 1);
  }
};

}  // namespace mesh::proxy
