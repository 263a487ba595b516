#include "proxy/capture/original_dst.h"

#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace mesh::proxy::capture {

std::optional<core::SocketAddress> redirectedFrom(int fd, const core::SocketAddress& local) {
  if (fd < 0 || local.empty()) return std::nullopt;
  sockaddr_storage original{};
  socklen_t size = sizeof original;
  int rc = local.isV6() ? ::getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &original, &size)
                        : ::getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &original, &size);
  // ENOENT: no NAT entry for this connection (no conntrack, or not redirected).
  if (rc != 0) return std::nullopt;
  core::SocketAddress address = core::SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&original));
  if (address.empty() || address == local) return std::nullopt;
  return address;
}

std::optional<core::SocketAddress> redirectedFrom(const core::TcpStream& stream) {
  uv_os_fd_t fd = -1;
  uv_stream_t* raw = stream.raw();
  if (!raw || uv_fileno(reinterpret_cast<uv_handle_t*>(raw), &fd) != 0) return std::nullopt;
  return redirectedFrom(fd, stream.localAddress());
}

}  // namespace mesh::proxy::capture
