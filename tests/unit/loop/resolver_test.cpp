#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "core/loop/resolver.h"

using namespace mesh::core;

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
