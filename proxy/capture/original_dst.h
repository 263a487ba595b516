// Where a connection was going before iptables' REDIRECT sent it to the proxy: the kernel
// keeps the original destination in the connection's conntrack entry, and
// getsockopt(SO_ORIGINAL_DST) (IP6T_SO_ORIGINAL_DST for IPv6) reads it back.
#pragma once

#include <optional>

#include "core/loop/address.h"
#include "core/loop/tcp.h"

namespace mesh::proxy::capture {

// The original destination of an accepted connection, or nothing when the connection was
// not redirected (it went to the proxy's own address, or conntrack knows nothing of it).
std::optional<core::SocketAddress> redirectedFrom(const core::TcpStream& stream);

// The same for a socket descriptor, given the address it was accepted on.
std::optional<core::SocketAddress> redirectedFrom(int fd, const core::SocketAddress& local);

}  // namespace mesh::proxy::capture
