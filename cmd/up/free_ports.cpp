#include "cmd/up/free_ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace mesh::cmd::up {

namespace {

core::Result<std::uint32_t> bindAny() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return core::error(core::Code::internal, std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&address), size);
  if (rc == 0) rc = ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  int saved = errno;
  ::close(fd);
  if (rc != 0)
    return core::error(core::Code::unavailable, std::string("bind: ") + std::strerror(saved));
  return static_cast<std::uint32_t>(ntohs(address.sin_port));
}

}  // namespace

core::Result<std::uint32_t> FreePorts::take() {
  for (int attempt = 0; attempt < 64; ++attempt) {
    auto port = bindAny();
    if (!port.ok()) return port;
    if (taken_.insert(*port).second) return port;
  }
  return core::error(core::Code::unavailable, "no free port on 127.0.0.1");
}

}  // namespace mesh::cmd::up
