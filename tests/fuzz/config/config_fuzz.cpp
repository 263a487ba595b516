// libFuzzer driver for the config loader: whatever bytes a config file holds, loading must
// not crash, hang, or leak, and every error must format. Not part of the meson build; with
// clang (sanitizers and libFuzzer are in Debian's clang package):
//
//   srcs=$(ls core/config/*.cpp core/base/*.cpp)
//   clang++ -std=c++20 -O1 -g -I. -fsanitize=fuzzer,address,undefined \
//     tests/fuzz/config/config_fuzz.cpp $srcs /usr/lib/x86_64-linux-gnu/libyaml-cpp.a \
//     -o /tmp/config_fuzz
//   /tmp/config_fuzz -dict=tests/fuzz/config/config.dict -max_len=4096 \
//     /tmp/config_corpus tests/fuzz/config/corpus
//
// (the first corpus directory collects what the fuzzer finds; the committed one seeds it).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/config/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mesh::core::config;
  LoadResult result;
  loadText(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.yaml", result);
  for (const ConfigError& e : result.errors) (void)e.toString();
  for (const SkippedNote& n : result.skipped) (void)n.toString();
  for (const Resource& r : result.resources) {
    (void)r.ref();
    (void)r.lineOf("/spec/http/0/route/0/weight");
    (void)r.spec.dump();
  }
  return 0;
}
