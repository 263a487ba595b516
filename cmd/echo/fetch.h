// Fetch: one HTTP/1.1 GET on its own connection, the way `mesh echo` calls the next service:
// straight to the URL's host, or through the proxy of $http_proxy in absolute form, as curl
// does (the sidecar's outbound listener then routes it). The connection closes after the
// answer; keep-alive would save little for a demo app and hide nothing worth testing.
//
// A Fetch owns its stream, its timer and its parser; destroying it abandons the call and no
// callback runs afterwards. Every failure (name not found, refused, reset, timeout, a
// malformed or oversized answer) ends in the callback with `error` set; nothing throws.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cmd/echo/url.h"
#include "core/http/parser.h"
#include "core/loop/loop.h"
#include "core/loop/resolver.h"
#include "core/loop/tcp.h"
#include "core/loop/timer.h"

namespace mesh::cmd::echo {

struct FetchRequest {
  HttpUrl url;
  std::optional<HttpUrl> proxy;
  std::vector<std::pair<std::string, std::string>> headers;  // Host and Connection are ours
  std::chrono::milliseconds timeout{5000};
  std::size_t maxBodyBytes = 1 << 20;
};

struct FetchResult {
  int status = 0;  // 0 when no answer came
  std::string body;
  std::string contentType;
  std::string error;  // empty on an answer
  bool ok() const { return error.empty(); }
};

class Fetch final : private core::StreamSink, private core::http::ResponseHandler {
 public:
  using Callback = std::function<void(FetchResult)>;

  // The callback runs later from the loop, never inside start(), exactly once (unless the
  // Fetch is destroyed first); it may destroy the Fetch.
  Fetch(core::Loop& loop, core::Resolver& resolver, FetchRequest request, Callback done);
  ~Fetch() override;
  Fetch(const Fetch&) = delete;
  Fetch& operator=(const Fetch&) = delete;

  void start();

 private:
  void connectTo(const std::string& ip, std::uint16_t port);
  void sendRequest();
  void finish(FetchResult result);
  void fail(const std::string& why) { finish({0, {}, {}, why}); }

  void onData(core::ByteView data) override;
  void onEof() override;
  void onError(const core::Status& status) override;
  core::http::Flow onHead(core::http::ResponseHead& head) override;
  void onBody(std::string_view piece) override;
  core::http::Flow onMessageComplete(const core::http::HeaderMap& trailers) override;

  core::Loop& loop_;
  core::Resolver& resolver_;
  FetchRequest request_;
  Callback done_;
  FetchResult result_;
  bool complete_ = false;
  // Cleared by the destructor, so that a name lookup that comes back late is ignored.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  core::Timer timer_;
  core::http::ResponseParser parser_;
  std::unique_ptr<core::TcpStream> stream_;  // last: closed first
};

}  // namespace mesh::cmd::echo
