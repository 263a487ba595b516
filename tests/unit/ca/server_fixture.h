// A CA serving on 127.0.0.1 (port 0) over a LoopFixture's loop, and clients for it: the real
// CsrExchange, and a raw TLS client that sends whatever bytes a test wants.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ca/server.h"
#include "core/identity/ca_client.h"
#include "core/proto/frame.h"
#include "core/tls/tls_stream.h"
#include "tests/unit/ca/ca_fixture.h"
#include "tests/unit/loop/loop_fixture.h"

namespace mesh::test {

struct ServingCa : CaUnderTest {
  explicit ServingCa(core::Loop& loop, ca::CaServerOptions options = quickOptions(),
                     bool realTime = false)
      : CaUnderTest("cluster.local", realTime),
        server(
            loop, *authority, [this] { return ca::loadIssuer(source, time); }, options, time) {
    REQUIRE(server.start().ok());
  }
  static ca::CaServerOptions quickOptions() {
    ca::CaServerOptions options;
    options.listen = core::SocketAddress::loopbackV4(0);
    options.handshakeTimeout = std::chrono::milliseconds(500);
    options.reloadInterval = std::chrono::milliseconds(50);
    return options;
  }
  core::SocketAddress address() const { return core::SocketAddress::loopbackV4(server.port()); }
  core::CertificateList roots() { return authority->issuer()->bundle; }

  core::CsrRequest request(const core::SpiffeId& id, std::string token) {
    return core::CsrRequest{
        .ca = address(), .caRoots = roots(), .id = id, .token = std::move(token), .clock = &time};
  }

  ca::CaServer server;
};

// Runs one exchange to its end.
inline core::Result<core::IssuedIdentity> exchange(LoopFixture& fx, core::CsrRequest request) {
  std::optional<core::Result<core::IssuedIdentity>> result;
  auto ex = core::CsrExchange::start(
      fx.loop, std::move(request),
      [&](core::Result<core::IssuedIdentity> r) { result.emplace(std::move(r)); });
  REQUIRE(ex.ok());
  fx.runUntil([&] { return result.has_value(); });
  return std::move(*result);
}

// A TLS client that writes raw bytes and collects the frames (and the close) that come back.
class RawClient final : private core::StreamSink {
 public:
  RawClient(LoopFixture& fx, ServingCa& ca) : fx_(fx) {
    core::TlsOptions options;
    options.trustBundle = ca.roots();
    options.clock = &ca.time;
    auto context = core::TlsContext::create(std::move(options));
    REQUIRE(context.ok());
    context_ = *context;
    auto stream =
        core::TlsStream::connect(fx.loop, ca.address(), *context_, {}, [this](core::Status s) {
          handshake_ = s;
          connected_ = true;
        });
    REQUIRE(stream.ok());
    stream_ = std::move(*stream);
    fx.runUntil([&] { return connected_; });
    REQUIRE(handshake_.ok());
    REQUIRE(stream_->startReading(*this).ok());
  }

  void send(std::string bytes) { REQUIRE(stream_->write(std::move(bytes), nullptr).ok()); }
  // Waits for the next frame (or the close); nullopt when the connection closed first.
  std::optional<nlohmann::json> next() {
    fx_.runUntil([&] { return !frames_.empty() || closed_; });
    if (frames_.empty()) return std::nullopt;
    auto f = std::move(frames_.front());
    frames_.erase(frames_.begin());
    return f;
  }
  bool waitClosed() {
    fx_.runUntil([&] { return closed_; });
    return closed_;
  }

 private:
  void onData(core::ByteView data) override {
    (void)decoder_.feed(std::string_view(data.data(), data.size()),
                        [&](nlohmann::json&& m) { frames_.push_back(std::move(m)); });
  }
  void onEof() override { closed_ = true; }
  void onError(const core::Status&) override { closed_ = true; }

  LoopFixture& fx_;
  std::shared_ptr<core::TlsContext> context_;
  core::Status handshake_;
  bool connected_ = false;
  bool closed_ = false;
  core::FrameDecoder decoder_;
  std::vector<nlohmann::json> frames_;
  std::unique_ptr<core::TlsStream> stream_;
};

}  // namespace mesh::test
