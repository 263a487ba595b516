// PendingConnections: the accepted connections an acceptor is still sorting out (reading a
// first byte, a handshake, a ClientHello) before it hands them over. It owns them until then;
// one that is done is deleted on the next loop turn, since it finishes from inside its own
// callbacks; closeAll() (drain, stop) closes and drops the rest.
//
// `Connection` has close(). Its type may be incomplete where the set is declared.
#pragma once

#include <map>
#include <memory>

#include "core/loop/loop.h"

namespace mesh::proxy {

template <typename Connection>
class PendingConnections {
 public:
  explicit PendingConnections(core::Loop& loop) : loop_(loop) {}
  ~PendingConnections() { closeAll(); }
  PendingConnections(const PendingConnections&) = delete;
  PendingConnections& operator=(const PendingConnections&) = delete;

  Connection& add(std::unique_ptr<Connection> connection) {
    Connection* raw = connection.get();
    connections_[raw] = std::move(connection);
    return *raw;
  }

  // Done with `connection` (handed over or refused): deleted on the next turn.
  void finish(Connection& connection) {
    auto it = connections_.find(&connection);
    if (it == connections_.end()) return;
    core::deferredDelete(loop_, std::move(it->second));
    connections_.erase(it);
  }

  void closeAll() {
    for (auto& [raw, owned] : connections_) {
      raw->close();
      core::deferredDelete(loop_, std::move(owned));
    }
    connections_.clear();
  }

  std::size_t size() const { return connections_.size(); }

 private:
  core::Loop& loop_;
  std::map<Connection*, std::unique_ptr<Connection>> connections_;
};

}  // namespace mesh::proxy
