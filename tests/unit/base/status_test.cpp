#include <catch2/catch.hpp>

#include "core/base/status.h"

using namespace mesh::core;

namespace {
Result<int> parsePort(int value) {
  if (value < 0 || value > 65535) return error(Code::invalid, "port out of range");
  return value;
}
}  // namespace

TEST_CASE("Status carries a code and a message", "[base]") {
  Status ok;
  CHECK(ok.ok());
  CHECK(ok.toString() == "ok");
  Status bad = error(Code::too_large, "frame larger than 16 MiB");
  CHECK_FALSE(bad.ok());
  CHECK(bad.code() == Code::too_large);
  CHECK(bad.toString() == "too_large: frame larger than 16 MiB");
}

TEST_CASE("Result holds either a value or an error", "[base]") {
  auto good = parsePort(15001);
  REQUIRE(good.ok());
  CHECK(*good == 15001);
  CHECK(good.status().ok());

  auto bad = parsePort(70000);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == Code::invalid);
  CHECK(bad.status().message() == "port out of range");
}
