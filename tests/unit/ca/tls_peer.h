// Two workloads talking mTLS, for the rotation tests: an echo server on 127.0.0.1 that serves
// with one TlsContext, and clients that connect with another, so a test can see whether a
// handshake still succeeds while certificates and roots change underneath.
#pragma once

#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <string>

#include "core/loop/tcp.h"
#include "core/tls/tls_stream.h"
#include "tests/unit/loop/loop_fixture.h"

namespace mesh::test {

class EchoServer {
 public:
  EchoServer(core::Loop& loop, std::shared_ptr<core::TlsContext> context)
      : loop_(loop), context_(std::move(context)), listener_(loop) {
    REQUIRE(listener_
                .listen(core::SocketAddress::loopbackV4(0),
                        [this](auto tcp) { accept(std::move(tcp)); })
                .ok());
  }
  ~EchoServer() {
    listener_.close();
    for (auto& [raw, c] : connections_) core::deferredDelete(loop_, std::move(c));
  }
  core::SocketAddress address() const { return core::SocketAddress::loopbackV4(listener_.port()); }
  int handshakeFailures() const { return failures_; }

 private:
  struct Echo final : core::StreamSink {
    EchoServer* server;
    std::unique_ptr<core::TlsStream> tls;
    void onData(core::ByteView data) override {
      (void)tls->write(std::string(data.data(), data.size()), nullptr);
    }
    void onEof() override { server->drop(this); }
    void onError(const core::Status&) override { server->drop(this); }
  };
  void accept(std::unique_ptr<core::TcpStream> tcp) {
    auto tls = core::TlsStream::server(std::move(tcp), *context_);
    REQUIRE(tls.ok());
    auto echo = std::make_unique<Echo>();
    echo->server = this;
    echo->tls = std::move(*tls);
    Echo* raw = echo.get();
    connections_[raw] = std::move(echo);
    REQUIRE(raw->tls
                ->handshake([this, raw](core::Status s) {
                  if (!s) {
                    ++failures_;
                    return drop(raw);
                  }
                  (void)raw->tls->startReading(*raw);
                })
                .ok());
  }
  void drop(Echo* echo) {
    auto it = connections_.find(echo);
    if (it == connections_.end()) return;
    core::deferredDelete(loop_, std::move(it->second));
    connections_.erase(it);
  }

  core::Loop& loop_;
  std::shared_ptr<core::TlsContext> context_;
  core::TcpListener listener_;
  int failures_ = 0;
  std::map<Echo*, std::unique_ptr<Echo>> connections_;
};

// A client connection that stays open and checks, on demand, that bytes still go round.
class EchoClient final : private core::StreamSink {
 public:
  EchoClient(LoopFixture& fx, const core::SocketAddress& server, core::TlsContext& context)
      : fx_(fx) {
    auto tls = core::TlsStream::connect(fx.loop, server, context, {}, [this](core::Status s) {
      handshake_ = s;
      done_ = true;
    });
    REQUIRE(tls.ok());
    tls_ = std::move(*tls);
    fx.runUntil([&] { return done_; });
    if (handshake_.ok()) REQUIRE(tls_->startReading(*this).ok());
  }
  const core::Status& handshake() const { return handshake_; }
  std::optional<core::Certificate> peerCertificate() const { return tls_->peerCertificate(); }
  // Sends `text` and waits for it to come back; false when the connection broke instead.
  bool roundTrip(const std::string& text) {
    received_.clear();
    if (!tls_->write(std::string(text), nullptr).ok()) return false;
    fx_.runUntil([&] { return received_.size() >= text.size() || broken_; });
    return !broken_ && received_ == text;
  }

 private:
  void onData(core::ByteView data) override { received_.append(data.data(), data.size()); }
  void onEof() override { broken_ = true; }
  void onError(const core::Status&) override { broken_ = true; }

  LoopFixture& fx_;
  core::Status handshake_;
  bool done_ = false;
  bool broken_ = false;
  std::string received_;
  std::unique_ptr<core::TlsStream> tls_;
};

}  // namespace mesh::test
