#include <catch2/catch.hpp>

#include "core/base/base64.h"

using mesh::core::decodeBase64;

TEST_CASE("base64 decodes RFC 4648's vectors", "[base64]") {
  CHECK(decodeBase64("") == "");
  CHECK(decodeBase64("Zg==") == "f");
  CHECK(decodeBase64("Zm8=") == "fo");
  CHECK(decodeBase64("Zm9v") == "foo");
  CHECK(decodeBase64("Zm9vYg==") == "foob");
  CHECK(decodeBase64("Zm9vYmE=") == "fooba");
  CHECK(decodeBase64("Zm9vYmFy") == "foobar");
  CHECK(decodeBase64("/+8A") == std::string("\xff\xef\x00", 3));
}

TEST_CASE("base64 refuses what is not whole padded groups of its alphabet", "[base64]") {
  for (const char* bad : {"Zg", "Zg=", "Zm9", "Z===", "Zm=v", "Zm9v\n", "Zm9-", "Zm9_",
                          "Zm 9", "====", "Zg==Zg=="}) {
    INFO(bad);
    CHECK_FALSE(decodeBase64(bad));
  }
}
