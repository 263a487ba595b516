#include "cmd/up/free_ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace mesh::cmd::up {

FreePorts::~FreePorts() {
  for (const auto& [port, fd] : held_) ::close(fd);
}

core::Result<std::uint32_t> FreePorts::take() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return core::error(core::Code::unavailable, std::string("socket: ") + std::strerror(errno));
  }
  int one = 1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  int rc = ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (rc == 0) rc = ::bind(fd, reinterpret_cast<sockaddr*>(&address), size);
  if (rc == 0) rc = ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  if (rc != 0) {
    int saved = errno;
    ::close(fd);
    return core::error(core::Code::unavailable, std::string("bind: ") + std::strerror(saved));
  }
  auto port = static_cast<std::uint32_t>(ntohs(address.sin_port));
  held_[port] = fd;
  return port;
}

void FreePorts::release(std::uint32_t port) {
  auto it = held_.find(port);
  if (it == held_.end()) return;
  ::close(it->second);
  held_.erase(it);
}

}  // namespace mesh::cmd::up
