#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <random>
#include <string>
#include <vector>

#include "core/http/arena.h"
#include "core/http/chars.h"
#include "core/http/header_map.h"

using namespace mesh::core::http;

TEST_CASE("HeaderMap finds names without regard to case, in order", "[http]") {
  HeaderMap m;
  m.add("Content-Type", "text/plain");
  m.add("set-cookie", "a=1");
  m.add("Set-Cookie", "b=2");
  m.add("X-Empty", "");

  CHECK(m.size() == 4);
  CHECK(m.get("content-type") == std::optional<std::string_view>("text/plain"));
  CHECK(m.get("CONTENT-TYPE") == std::optional<std::string_view>("text/plain"));
  CHECK_FALSE(m.get("content-length").has_value());
  CHECK(m.get("x-empty") == std::optional<std::string_view>(""));
  CHECK(m.has("X-EMPTY"));
  CHECK(m.count("SET-COOKIE") == 2);

  std::vector<std::string> cookies;
  m.forEach("set-cookie", [&](std::string_view v) { cookies.emplace_back(v); });
  CHECK(cookies == std::vector<std::string>{"a=1", "b=2"});
  CHECK(m[1].name == "set-cookie");  // case as given is kept for forwarding
  CHECK(m[2].name == "Set-Cookie");
}

TEST_CASE("HeaderMap set replaces every line at the first one's place", "[http]") {
  HeaderMap m;
  m.add("a", "1");
  m.add("via", "x");
  m.add("b", "2");
  m.add("VIA", "y");
  m.set("Via", "z");
  REQUIRE(m.size() == 3);
  CHECK(m[0].name == "a");
  CHECK(m[1].value == "z");
  CHECK(m[2].name == "b");

  m.set("new", "v");
  CHECK(m[3].name == "new");
  CHECK(m.remove("A") == 1);
  CHECK(m.remove("missing") == 0);
  CHECK(m.size() == 3);
  CHECK(m[0].value == "z");
}

TEST_CASE("HeaderMap add copies, addView does not, materialize copies the views", "[http]") {
  std::string name = "x-id";
  std::string value = "abc";
  HeaderMap m;
  m.add(name, value);
  m.addView(name, value);
  CHECK_FALSE(m.owns(m[1].value));
  value[0] = 'Z';
  CHECK(m[0].value == "abc");
  CHECK(m[1].value == "Zbc");

  m.materialize();
  CHECK(m.owns(m[1].name));
  CHECK(m.owns(m[1].value));
  value = "gone";
  name = "gone";
  CHECK(m[1].name == "x-id");
  CHECK(m[1].value == "Zbc");
}

TEST_CASE("HeaderMap copies are deep and moves keep views valid", "[http]") {
  HeaderMap a;
  std::string v = "value";
  a.addView("name", v);
  HeaderMap b = a;
  v = "XXXXX";
  CHECK(b.get("name") == std::optional<std::string_view>("value"));
  HeaderMap c = std::move(b);
  CHECK(c.get("name") == std::optional<std::string_view>("value"));
  b.clear();  // a moved-from map is usable after clear()
  b.add("k", "v");
  CHECK(b.size() == 1);
}

TEST_CASE("HeaderMap lookups agree with a scan, whatever names share summary bits", "[http]") {
  // Names of the same length with the same first and last letters share their summary bits,
  // so a lookup of one must still scan and compare; removed names must not be found again.
  const std::vector<std::string> names = {"x-ab", "X-AB", "x-cb", "x-zb", "y-ab", "x-a",
                                          "connection", "content-md5", "te", "TE", "t3"};
  std::mt19937 rng(11);
  HeaderMap m;
  std::vector<std::pair<std::string, std::string>> reference;
  auto same = [](std::string_view a, std::string_view b) {  // the plain definition
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](char x, char y) { return std::tolower(x) == std::tolower(y); });
  };
  auto scanCount = [&](const std::string& name) {
    size_t n = 0;
    for (const auto& [k, v] : reference) n += same(k, name) ? 1 : 0;
    return n;
  };
  for (int step = 0; step < 2000; ++step) {
    const std::string& name = names[rng() % names.size()];
    std::string value = std::to_string(step);
    switch (rng() % 4) {
      case 0:
        m.add(name, value);
        reference.emplace_back(name, value);
        break;
      case 1:
        CHECK(m.remove(name) == scanCount(name));
        std::erase_if(reference, [&](const auto& e) { return same(e.first, name); });
        break;
      case 2:
        if (rng() % 50 == 0) {
          m.clear();
          reference.clear();
        }
        break;
      default:
        break;
    }
    for (const std::string& query : names) {
      REQUIRE(m.count(query) == scanCount(query));
      auto first = std::find_if(reference.begin(), reference.end(),
                                [&](const auto& e) { return same(e.first, query); });
      if (first == reference.end()) {
        REQUIRE_FALSE(m.get(query).has_value());
      } else {
        REQUIRE(m.get(query) == std::optional<std::string_view>(first->second));
      }
    }
  }
}

TEST_CASE("HeaderMap take removes every line of a name and gives the first value", "[http]") {
  HeaderMap m;
  m.add("x-meta", "first");
  m.add("other", "o");
  m.add("X-Meta", "second");
  auto taken = m.take("X-META");
  REQUIRE(taken);
  CHECK(*taken == "first");
  CHECK(m.owns(*taken));
  CHECK(m.size() == 1);
  CHECK_FALSE(m.has("x-meta"));
  CHECK_FALSE(m.take("x-meta"));
  CHECK_FALSE(m.take("absent"));
}

TEST_CASE("HeaderMap setValueAt replaces one line's value in place", "[http]") {
  HeaderMap m;
  m.add("a", "1");
  m.add("b", "2");
  std::string fresh = "three";
  m.setValueAt(1, fresh);
  fresh = "gone!";
  CHECK(m[1].name == "b");
  CHECK(m[1].value == "three");
  CHECK(m.owns(m[1].value));
}

TEST_CASE("HeaderMap list tokens and joining", "[http]") {
  HeaderMap m;
  m.add("Connection", "keep-alive, Upgrade");
  m.add("connection", " TE ");
  CHECK(m.hasToken("connection", "upgrade"));
  CHECK(m.hasToken("connection", "te"));
  CHECK_FALSE(m.hasToken("connection", "close"));
  CHECK_FALSE(m.hasToken("connection", "keep"));
  CHECK(m.joined("CONNECTION") == "keep-alive, Upgrade,  TE ");
  CHECK(m.joined("absent").empty());
  CHECK(m.serializedSize() == std::string("Connection: keep-alive, Upgrade\r\n").size() +
                                  std::string("connection:  TE \r\n").size());
}

TEST_CASE("HeaderMap clear keeps its memory for the next message", "[http]") {
  HeaderMap m;
  for (int i = 0; i < 50; ++i) m.add("name-" + std::to_string(i), std::string(40, 'v'));
  m.clear();
  CHECK(m.empty());
  m.add("a", "b");
  CHECK(m.get("A") == std::optional<std::string_view>("b"));
}

TEST_CASE("Arena appends in place and keeps one block on reset", "[http]") {
  Arena arena;
  std::string_view s = arena.copy("ab");
  const char* first = s.data();
  s = arena.append(s, "cd");
  CHECK(s == "abcd");
  CHECK(s.data() == first);  // grown in place
  std::string_view other = arena.copy("zz");
  s = arena.append(s, "ef");  // no longer the latest allocation: copied
  CHECK(s == "abcdef");
  CHECK(other == "zz");
  CHECK(arena.contains(s.data()));
  std::string outside = "x";
  CHECK_FALSE(arena.contains(outside.data()));

  std::string big(5000, 'q');
  std::string_view b = arena.copy(big);
  CHECK(b == big);
  size_t before = arena.capacity();
  arena.reset();
  CHECK(arena.capacity() <= before);
  CHECK(arena.capacity() > 0);
  CHECK(arena.copy("again") == "again");
}

TEST_CASE("Character classes follow RFC 9110", "[http]") {
  CHECK(isValidHeaderName("X-Custom_Header.1~"));
  CHECK_FALSE(isValidHeaderName(""));
  CHECK_FALSE(isValidHeaderName("Host "));
  CHECK_FALSE(isValidHeaderName("a:b"));
  CHECK(isValidHeaderValue("text/html; q=0.5\tx \xc3\xa9"));
  CHECK_FALSE(isValidHeaderValue("a\r\nb"));
  CHECK_FALSE(isValidHeaderValue(std::string("a\0b", 3)));
  CHECK_FALSE(isValidHeaderValue("a\x7f"));
  CHECK(trimOws(" \t v a \t") == "v a");
  CHECK(equalsIgnoreCase("Content-Length", "content-LENGTH"));
  CHECK_FALSE(equalsIgnoreCase("Content-Length", "Content-Lengt"));
  // Compared eight bytes at a time: case and non-letters in the words and in the tail.
  CHECK(equalsIgnoreCase("X-Forwarded-Client-Cert", "x-forwarded-client-CERT"));
  CHECK_FALSE(equalsIgnoreCase("x-forwarded-client-cert", "x-forwarded-client-cers"));
  CHECK_FALSE(equalsIgnoreCase("x-forwarded-client-cert", "y-forwarded-client-cert"));
  CHECK_FALSE(equalsIgnoreCase("x^custom-header-a", "x~custom-header-a"));  // 0x5e, 0x7e
  CHECK_FALSE(equalsIgnoreCase("x-custom-header^a", "x-custom-header~a"));
  CHECK_FALSE(equalsIgnoreCase("x-cu@tom", "x-cu`tom"));
  CHECK(equalsIgnoreCase("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"));
}
