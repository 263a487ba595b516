// Free loopback ports for the processes mesh up starts. The kernel picks each one (bind to
// port 0); the socket is closed before the child binds it, so another program could take it
// in between. The window is short (ports are taken just before the spawn), ports handed out
// are remembered and never handed out twice, and a child that lost the race exits and is
// restarted by its supervisor.
#pragma once

#include <cstdint>
#include <set>

#include "core/base/status.h"

namespace mesh::cmd::up {

class FreePorts {
 public:
  // A port free on 127.0.0.1 right now, not handed out before by this object.
  core::Result<std::uint32_t> take();
  // Gives a port back once its process is gone for good.
  void release(std::uint32_t port) { taken_.erase(port); }

 private:
  std::set<std::uint32_t> taken_;
};

}  // namespace mesh::cmd::up
