// EchoServer: the demo app behind `mesh echo`. It answers every request with its identity and
// the caller's (answer.h), after calling each --call URL in order (fetch.h) with the request's
// trace and routing headers copied over, and can fail or delay a share of requests on purpose.
//
// One request at a time per connection (HTTP/1.1 keep-alive, no pipelining in parallel): the
// parser pauses at the end of a request and resumes once the answer is written. Ownership:
// the server owns its listener, its connections and their calls in flight; closing a
// connection abandons its calls.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "cmd/echo/answer.h"
#include "cmd/echo/url.h"
#include "core/base/status.h"
#include "core/loop/address.h"
#include "core/loop/heap_trimmer.h"
#include "core/loop/loop.h"
#include "core/loop/resolver.h"
#include "core/loop/tcp.h"

namespace mesh::cmd::echo {

struct EchoOptions {
  Identity identity;
  std::vector<HttpUrl> calls;
  std::optional<HttpUrl> proxy;  // from $http_proxy
  std::chrono::milliseconds callTimeout{5000};
  bool failOnCallError = false;
  double failPercent = 0;   // answered 503
  double delayPercent = 0;  // delayed by `delay`
  std::chrono::milliseconds delay{0};
};

class EchoServer {
 public:
  EchoServer(core::Loop& loop, EchoOptions options);
  ~EchoServer();
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  core::Status listen(const core::SocketAddress& address);
  core::SocketAddress localAddress() const { return listener_.localAddress(); }
  void close();
  std::uint64_t requests() const { return requests_; }

 private:
  class Connection;
  friend class Connection;
  void remove(Connection* connection);
  // A draw in [0, 100): whether a request falls in a --fail-percent or --delay-percent share.
  bool draw(double percent);

  core::Loop& loop_;
  // Trims the heap once requests stop for a second: mesh up runs fifty of these apps, and
  // each answer through a chain of calls leaves freed memory behind in the heap.
  core::HeapTrimmer trimmer_{loop_};
  EchoOptions options_;
  core::Resolver resolver_;
  std::mt19937_64 random_;
  std::uint64_t requests_ = 0;
  core::TcpListener listener_;
  std::map<Connection*, std::unique_ptr<Connection>> connections_;
};

}  // namespace mesh::cmd::echo
