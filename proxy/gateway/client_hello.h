// The server name (SNI) a TLS client asks for, read from its ClientHello without taking part
// in the handshake: what a gateway's PASSTHROUGH server routes on before it forwards the
// encrypted bytes, untouched, to the backend that terminates TLS itself.
//
// Reads TLS records of type handshake (a ClientHello may span several), then the
// ClientHello's extensions (RFC 8446 4.1.2, RFC 6066 3). Bounded: a hello that needs more
// than kMaxHelloBytes of records is refused, not waited for.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mesh::proxy {

inline constexpr std::size_t kMaxHelloBytes = 16 * 1024;

struct ClientHelloSni {
  enum class State {
    more,      // not a whole ClientHello yet: read on
    done,      // `serverName` holds the SNI ("" when the client sent none)
    notTls,    // not a TLS ClientHello, or malformed, or too big
  };
  State state = State::more;
  std::string serverName;
  std::string error;  // for notTls
};

// `bytes`: everything the client sent so far.
ClientHelloSni readClientHelloSni(std::string_view bytes);

}  // namespace mesh::proxy
