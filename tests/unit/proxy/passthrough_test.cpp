// Gateway PASSTHROUGH: the SNI read from real ClientHellos (BoringSSL's, over loopback TCP),
// malformed ones refused, and the SNI routes' matching.
#include <catch2/catch.hpp>

#include <string>

#include "core/loop/loop.h"
#include "core/loop/tcp.h"
#include "core/tls/context.h"
#include "core/tls/tls_stream.h"
#include "proxy/gateway/client_hello.h"
#include "proxy/gateway/passthrough_acceptor.h"

using namespace mesh;
using namespace mesh::proxy;
using State = ClientHelloSni::State;

namespace {

struct Collect final : core::StreamSink {
  std::string data;
  void onData(core::ByteView d) override { data.append(d.data(), d.size()); }
  void onEof() override {}
  void onError(const core::Status&) override {}
};

// The bytes a TLS client sends first, asking for `serverName` ("" for no SNI).
std::string clientHello(const std::string& serverName) {
  core::Loop loop;
  core::TcpListener listener(loop);
  std::unique_ptr<core::TcpStream> accepted;
  Collect seen;
  REQUIRE(listener
              .listen(core::SocketAddress::loopbackV4(0),
                      [&](std::unique_ptr<core::TcpStream> s) {
                        accepted = std::move(s);
                        REQUIRE(accepted->startReading(seen).ok());
                      })
              .ok());
  core::TlsOptions options;
  options.verifyPeer = false;
  options.alpn = {"h2", "http/1.1"};
  auto context = core::TlsContext::create(std::move(options));
  REQUIRE(context.ok());
  core::TlsSessionOptions session;
  session.serverName = serverName;
  auto tls = core::TlsStream::connect(loop, core::SocketAddress::loopbackV4(listener.port()),
                                      **context, session, nullptr);
  REQUIRE(tls.ok());
  for (int i = 0; i < 1000 && readClientHelloSni(seen.data).state == State::more; ++i)
    loop.runOnce();
  (*tls)->close();
  if (accepted) accepted->close();
  listener.close();
  loop.run();
  return seen.data;
}

}  // namespace

TEST_CASE("the SNI comes out of a real ClientHello, however it is cut", "[passthrough]") {
  std::string hello = clientHello("shop.example.com");
  REQUIRE(hello.size() > 100);
  auto whole = readClientHelloSni(hello);
  REQUIRE(whole.state == State::done);
  CHECK(whole.serverName == "shop.example.com");
  // Every prefix but the whole is "read on".
  for (std::size_t n = 0; n < hello.size(); ++n) {
    auto part = readClientHelloSni(std::string_view(hello).substr(0, n));
    if (part.state != State::more) FAIL("prefix of " << n << " bytes was not 'more'");
  }
  // Bytes after the hello (the client's next records) change nothing.
  auto more = readClientHelloSni(hello + std::string(50, '\x17'));
  CHECK(more.state == State::done);
  CHECK(more.serverName == "shop.example.com");
}

TEST_CASE("a ClientHello without SNI is read as asking for no name", "[passthrough]") {
  auto hello = readClientHelloSni(clientHello(""));
  REQUIRE(hello.state == State::done);
  CHECK(hello.serverName.empty());
}

TEST_CASE("a ClientHello split over two TLS records is joined", "[passthrough]") {
  std::string hello = clientHello("web.example.com");
  // Re-frame the one handshake message as two records, as a client may.
  std::string body = hello.substr(5);
  std::string split;
  for (std::string_view piece : {std::string_view(body).substr(0, 40),
                                 std::string_view(body).substr(40)}) {
    split += std::string("\x16\x03\x01", 3);
    split += static_cast<char>(piece.size() >> 8);
    split += static_cast<char>(piece.size() & 0xff);
    split += piece;
  }
  auto read = readClientHelloSni(split);
  REQUIRE(read.state == State::done);
  CHECK(read.serverName == "web.example.com");
}

TEST_CASE("what is not a ClientHello is refused, never waited for", "[passthrough]") {
  std::string hello = clientHello("web.example.com");
  std::string serverHello = hello;
  serverHello[5] = 2;  // handshake type ServerHello
  std::string hugeLength = hello;
  hugeLength[6] = '\x7f';  // a hello of 8 MB
  std::string badName = hello;
  auto at = badName.find("web.example.com");
  REQUIRE(at != std::string::npos);
  badName[at + 3] = '/';
  struct Case {
    const char* what;
    std::string bytes;
  };
  for (const auto& c : std::vector<Case>{
           {"plain HTTP", "GET / HTTP/1.1\r\nHost: web\r\n\r\n"},
           {"a ServerHello", serverHello},
           {"an 8 MB hello", hugeLength},
           {"a host name with '/'", badName},
           {"an alert record", std::string("\x15\x03\x03\x00\x02\x02\x28", 7)},
           {"a record of length 0", std::string("\x16\x03\x01\x00\x00", 5)},
           {"20 KB of handshake records", std::string("\x16\x03\x01\x40\x00", 5) +
                                              std::string(16384, '\x01') +
                                              std::string("\x16\x03\x01\x40\x00", 5) +
                                              std::string(16384, '\x01')},
       }) {
    INFO(c.what);
    auto read = readClientHelloSni(c.bytes);
    CHECK(read.state == State::notTls);
    CHECK_FALSE(read.error.empty());
  }
}

TEST_CASE("SNI routes: first match, wildcards, any case", "[passthrough]") {
  core::model::Listener l;
  l.sniRoutes = {{{"web.example.com"}, "web"},
                 {{"*.example.com"}, "any-example"},
                 {{"*"}, "rest"}};
  CHECK(findSniRoute(l, "web.example.com")->cluster == "web");
  CHECK(findSniRoute(l, "WEB.Example.COM")->cluster == "web");
  CHECK(findSniRoute(l, "shop.example.com")->cluster == "any-example");
  CHECK(findSniRoute(l, "example.com")->cluster == "rest");
  CHECK(findSniRoute(l, "")->cluster == "rest");
  l.sniRoutes.pop_back();
  CHECK(findSniRoute(l, "example.com") == nullptr);
  CHECK(findSniRoute(l, "") == nullptr);
  CHECK(findSniRoute(l, "a.b.example.com")->cluster == "any-example");
}
