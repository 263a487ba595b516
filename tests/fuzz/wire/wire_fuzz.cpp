// libFuzzer driver for the two readers of bytes that come from other machines before any
// HTTP: the mux frame decoder between sidecars (proxy/mux/frame.h) and the ClientHello SNI
// reader of gateway PASSTHROUGH listeners (proxy/gateway/client_hello.h).
//
// Input: the first byte picks the piece size (1 to 16); the rest is the stream. Besides the
// sanitizers it checks that each reader gives the same answer fed whole and fed in pieces:
// the same frames (DATA joined per frame run) or the same error point for the decoder, and,
// for the ClientHello reader, that no prefix of the input is judged differently from the
// whole once the whole is judged ("more" may only turn into the final answer).
// Build and run: see README.md.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "proxy/gateway/client_hello.h"
#include "proxy/mux/frame.h"

using namespace mesh::proxy;
using namespace mesh::proxy::mux;

namespace {

struct Record final : FrameDecoder::Handler {
  std::vector<std::string> events;
  bool onFrameData(uint32_t stream, std::string_view piece) override {
    std::string key = "D" + std::to_string(stream) + ":";
    if (events.empty() || events.back().rfind(key, 0) != 0) events.push_back(key);
    events.back().append(piece);
    return true;
  }
  bool onFrameControl(FrameType type, uint32_t stream, uint32_t value) override {
    events.push_back("C" + std::to_string(static_cast<int>(type)) + "/" + std::to_string(stream) +
                     "/" + std::to_string(value));
    return true;
  }
};

// The events and whether decoding failed, feeding `piece` bytes at a time.
std::pair<std::vector<std::string>, bool> decode(const std::string& bytes, std::size_t piece) {
  FrameDecoder decoder;
  Record record;
  for (std::size_t at = 0; at < bytes.size(); at += piece) {
    std::size_t n = std::min(piece, bytes.size() - at);
    if (decoder.feed({bytes.data() + at, n}, record) == FrameDecoder::Result::error) {
      if (decoder.error().empty()) std::abort();
      return {record.events, true};
    }
  }
  return {record.events, false};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::size_t piece = data[0] % 16 + 1;
  std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);

  // Frames: a DATA frame's payload may come in pieces, so events are compared joined.
  if (decode(bytes, bytes.size() + 1) != decode(bytes, piece)) std::abort();

  auto whole = readClientHelloSni(bytes);
  if (whole.state == ClientHelloSni::State::done && whole.serverName.size() > 253) std::abort();
  if (whole.state == ClientHelloSni::State::notTls && whole.error.empty()) std::abort();
  for (std::size_t n = 0; n < bytes.size(); n += piece) {
    auto part = readClientHelloSni(std::string_view(bytes).substr(0, n));
    if (part.state == ClientHelloSni::State::more) continue;
    if (part.state != whole.state || part.serverName != whole.serverName) std::abort();
  }
  return 0;
}
