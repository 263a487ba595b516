// AdminServer: a small HTTP/1.1 server for the admin port (127.0.0.1:15000) and the
// readiness port (15021). Requests are parsed with the same codec as the data path; each
// answer closes the connection (admin traffic is a handful of requests, and a closed
// connection holds nothing). What each path returns is up to the handler the owner gives.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/http/serializer.h"
#include "core/loop/tcp.h"
#include "core/loop/timer.h"

namespace mesh::proxy {

struct AdminRequest {
  std::string method;
  std::string path;   // without the query
  std::map<std::string, std::string> query;
};

struct AdminResponse {
  int status = 200;
  std::string body;
  std::string contentType = "text/plain";
};

class AdminServer {
 public:
  using Handler = std::function<AdminResponse(const AdminRequest&)>;

  AdminServer(core::Loop& loop, Handler handler);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  core::Status listen(const core::SocketAddress& address);
  core::SocketAddress address() const { return listener_.localAddress(); }
  void close();

 private:
  class Connection;
  void onClosed(Connection* connection);

  core::Loop& loop_;
  Handler handler_;
  std::map<Connection*, std::unique_ptr<Connection>> connections_;
  core::TcpListener listener_;
};

}  // namespace mesh::proxy
