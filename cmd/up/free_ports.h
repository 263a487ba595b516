// Free loopback ports for the processes mesh up starts. The kernel picks each one (bind to
// port 0), and the bound socket is kept, without listening, until the port is released: the
// kernel then gives the port to no one else's bind(0), while the child mesh up starts on it
// can still bind and listen there (libuv sets SO_REUSEADDR, as this socket does, and Linux
// lets such sockets share a port as long as only one listens). A restarted child finds its
// port still reserved. The sockets are close-on-exec: children do not inherit them.
#pragma once

#include <cstdint>
#include <map>

#include "core/base/status.h"

namespace mesh::cmd::up {

class FreePorts {
 public:
  FreePorts() = default;
  ~FreePorts();
  FreePorts(const FreePorts&) = delete;
  FreePorts& operator=(const FreePorts&) = delete;

  // A port free on 127.0.0.1, reserved until release().
  core::Result<std::uint32_t> take();
  // Gives a port back once its process is gone for good.
  void release(std::uint32_t port);

 private:
  std::map<std::uint32_t, int> held_;  // port -> the socket that reserves it
};

}  // namespace mesh::cmd::up
