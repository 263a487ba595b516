#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <string>
#include <thread>

#include "core/loop/resolver.h"
#include "tests/unit/loop/loop_fixture.h"

using namespace mesh::core;
using mesh::test::LoopFixture;

TEST_CASE("resolveBlocking finds localhost in /etc/hosts", "[loop][resolver]") {
  auto addresses = resolveBlocking("localhost");
  REQUIRE(addresses.ok());
  const auto& list = *addresses;
  bool loopback = std::any_of(list.begin(), list.end(),
                              [](const std::string& a) { return a == "127.0.0.1" || a == "::1"; });
  CHECK(loopback);
  // IPv4 first.
  if (list.size() > 1 && list.back() == "::1") CHECK(list.front() == "127.0.0.1");
}

TEST_CASE("resolveBlocking returns numeric addresses unchanged", "[loop][resolver]") {
  auto v4 = resolveBlocking("192.0.2.7");
  REQUIRE(v4.ok());
  CHECK(*v4 == std::vector<std::string>{"192.0.2.7"});
  auto v6 = resolveBlocking("2001:db8::1");
  REQUIRE(v6.ok());
  CHECK(*v6 == std::vector<std::string>{"2001:db8::1"});
}

namespace {

// A DNS server on 127.0.0.1 that runs on its own thread: it answers every A query with
// 10.1.2.3 and every other query with no records, or, when `silent`, never answers.
class FakeDns {
 public:
  explicit FakeDns(bool silent) : silent_(silent) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    socklen_t size = sizeof address;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size) == 0);
    port_ = ntohs(address.sin_port);
    timeval tick{0, 20'000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof tick);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeDns() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }
  int queries() const { return queries_; }

 private:
  void serve() {
    while (!stop_) {
      unsigned char query[512];
      sockaddr_in peer{};
      socklen_t size = sizeof peer;
      ssize_t n =
          ::recvfrom(fd_, query, sizeof query, 0, reinterpret_cast<sockaddr*>(&peer), &size);
      if (n < 12) continue;
      ++queries_;
      if (silent_) continue;
      std::size_t end = 12;  // the question's name, then type and class
      while (end < static_cast<std::size_t>(n) && query[end] != 0) end += query[end] + 1;
      end += 5;
      if (end > static_cast<std::size_t>(n)) continue;
      bool isA = query[end - 4] == 0 && query[end - 3] == 1;
      std::vector<unsigned char> answer(query, query + end);
      answer[2] = 0x81;  // response, recursion desired
      answer[3] = 0x80;  // recursion available, NOERROR
      answer[6] = 0;
      answer[7] = isA ? 1 : 0;  // ANCOUNT
      answer[8] = answer[9] = answer[10] = answer[11] = 0;
      if (isA) {
        unsigned char record[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 1, 2, 3};
        answer.insert(answer.end(), record, record + sizeof record);
      }
      ::sendto(fd_, answer.data(), answer.size(), 0, reinterpret_cast<sockaddr*>(&peer), size);
    }
  }

  bool silent_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  std::thread thread_;
};

}  // namespace

TEST_CASE_METHOD(LoopFixture, "Resolver answers from /etc/hosts and numeric names, later",
                 "[loop][resolver]") {
  Resolver resolver(loop);
  std::optional<Result<std::vector<std::string>>> local, numeric;
  REQUIRE(resolver.resolve("localhost", [&](auto result) { local = std::move(result); }).ok());
  REQUIRE(resolver.resolve("::1", [&](auto result) { numeric = std::move(result); }).ok());
  // Never from inside resolve(), even when the answer is known at once.
  CHECK_FALSE(local.has_value());
  CHECK_FALSE(numeric.has_value());
  CHECK(resolver.pending() == 2);
  runUntil([&] { return local && numeric; });
  REQUIRE(local->ok());
  CHECK(std::find(local->value().begin(), local->value().end(), "127.0.0.1") !=
        local->value().end());
  REQUIRE(numeric->ok());
  CHECK(numeric->value() == std::vector<std::string>{"::1"});
  CHECK(resolver.pending() == 0);
}

TEST_CASE_METHOD(LoopFixture, "Resolver asks a DNS server over the loop", "[loop][resolver]") {
  FakeDns dns(/*silent=*/false);
  ResolverOptions options;
  options.servers = dns.server();
  Resolver resolver(loop, options);
  std::optional<Result<std::vector<std::string>>> answer;
  REQUIRE(resolver.resolve("backend.mesh.test", [&](auto r) { answer = std::move(r); }).ok());
  runUntil([&] { return answer.has_value(); });
  REQUIRE(answer->ok());
  CHECK(answer->value() == std::vector<std::string>{"10.1.2.3"});
  CHECK(dns.queries() >= 1);
}

TEST_CASE_METHOD(LoopFixture, "Resolver times out on a server that never answers",
                 "[loop][resolver]") {
  FakeDns dns(/*silent=*/true);
  ResolverOptions options;
  options.servers = dns.server();
  options.timeout = std::chrono::milliseconds(200);
  Resolver resolver(loop, options);
  std::optional<Result<std::vector<std::string>>> answer;
  auto started = std::chrono::steady_clock::now();
  REQUIRE(resolver.resolve("backend.mesh.test", [&](auto r) { answer = std::move(r); }).ok());
  runUntil([&] { return answer.has_value(); });
  CHECK(answer->status().code() == Code::timeout);
  CHECK(dns.queries() >= 2);  // retried
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(3));
}

TEST_CASE_METHOD(LoopFixture, "A destroyed Resolver never calls back", "[loop][resolver]") {
  FakeDns dns(/*silent=*/true);
  ResolverOptions options;
  options.servers = dns.server();
  bool called = false;
  {
    Resolver resolver(loop, options);
    // One lookup waiting for the server, one answered and waiting for delivery.
    REQUIRE(resolver.resolve("backend.mesh.test", [&](auto) { called = true; }).ok());
    // c-ares sends from inside resolve(); the server counts it on its own thread.
    while (dns.queries() < 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    REQUIRE(resolver.resolve("10.0.0.1", [&](auto) { called = true; }).ok());
    CHECK(resolver.pending() == 2);
  }
  loop.runNoWait();
  CHECK_FALSE(called);

  ResolverOptions bad;
  bad.servers = "not an address";
  Resolver broken(loop, bad);
  CHECK(broken.resolve("localhost", [&](auto) { called = true; }).code() == Code::invalid);
  loop.runNoWait();
  CHECK_FALSE(called);
}

TEST_CASE_METHOD(LoopFixture, "A Resolver may be destroyed from its own callback",
                 "[loop][resolver]") {
  auto resolver = std::make_unique<Resolver>(loop);
  int calls = 0;
  for (int i = 0; i < 2; ++i) {
    REQUIRE(resolver
                ->resolve("127.0.0.1",
                          [&](auto) {
                            ++calls;
                            resolver.reset();
                          })
                .ok());
  }
  runUntil([&] { return resolver == nullptr; });
  loop.runNoWait();
  CHECK(calls == 1);
}
