// AdminServer: the small HTTP/1.1 server behind monitoring and admin ports (the CA's and
// pilot's :15014 /metrics, the proxy's :15000 admin and :15090 stats). Routes are exact paths
// mapped to handlers that build a whole response; request bodies are not read. It is for
// operators and scrapers, not for traffic: one request at a time per connection, a size limit
// on the head, an idle timeout, and errors answered with the status the parser chose
// (400, 413, 414, 431, 501) followed by a close.
//
// Ownership: the server owns its listener and its connections. Handlers run on the loop's
// thread and are called with no lock held.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/base/status.h"
#include "core/loop/address.h"
#include "core/loop/loop.h"
#include "core/loop/tcp.h"

namespace mesh::core {

struct AdminResponse {
  int status = 200;
  std::string body;
  std::string contentType = "text/plain; charset=utf-8";
};

struct AdminRequest {
  std::string_view method;
  std::string_view path;   // the target before '?'
  std::string_view query;  // after '?', without it
};

class AdminServer {
 public:
  using Handler = std::function<AdminResponse(const AdminRequest&)>;

  explicit AdminServer(Loop& loop,
                       std::chrono::milliseconds idleTimeout = std::chrono::seconds(30));
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // GET and HEAD on exactly `path`. Others get 404 (unknown path) or 405 (other methods).
  void route(std::string path, Handler handler);
  Status listen(const SocketAddress& address);
  std::uint16_t port() const { return listener_.port(); }
  SocketAddress localAddress() const { return listener_.localAddress(); }
  void close();
  std::size_t connectionCount() const { return connections_.size(); }

 private:
  class Connection;
  AdminResponse dispatch(const AdminRequest& request) const;
  void remove(Connection* connection);

  Loop& loop_;
  std::chrono::milliseconds idleTimeout_;
  std::map<std::string, Handler, std::less<>> routes_;
  TcpListener listener_;
  std::map<Connection*, std::unique_ptr<Connection>> connections_;
};

}  // namespace mesh::core
