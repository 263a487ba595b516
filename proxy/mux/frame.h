// The wire format between two sidecars that agreed on ALPN "mesh/mux1": many HTTP/1.1
// connections ("streams") carried by one mTLS connection. Frames from every stream that
// wrote in the same loop turn leave in one TLS write, which is what makes the hop between
// sidecars cheaper than one connection per exchange.
//
// A frame is an 8-byte header, then its payload:
//   length (24 bits) | type (8 bits) | stream id (32 bits), all big-endian.
//   DATA    bytes of the stream; the first frame of an unknown odd id opens a stream
//   FIN     the sender will send no more on this stream (length 0)
//   RESET   the stream is refused or aborted (length 4: a reason code)
//   WINDOW  the receiver consumed this many more bytes of the stream (length 4)
//   GOAWAY  stream 0: the sender takes no new streams (length 4: the last id it took)
// Only the client (the calling sidecar) opens streams, with odd ids that grow. Each stream
// may have at most kInitialWindow bytes in flight unacknowledged by WINDOW frames, so a slow
// reader of one stream never stalls the others.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/loop/stream.h"

namespace mesh::proxy::mux {

enum class FrameType : uint8_t { data = 0, fin = 1, reset = 2, window = 3, goAway = 4 };

inline constexpr std::size_t kHeaderSize = 8;
inline constexpr uint32_t kMaxPayload = 64 * 1024;       // a bigger frame is a protocol error
inline constexpr uint32_t kInitialWindow = 256 * 1024;   // per stream, each direction
inline constexpr uint32_t kMaxStreams = 1024;            // open at once on one connection

struct FrameHeader {
  uint32_t length = 0;
  FrameType type = FrameType::data;
  uint32_t stream = 0;
};

void appendHeader(std::string& out, const FrameHeader& header);
// DATA frames for `bytes`, split at kMaxPayload.
void appendData(std::string& out, uint32_t stream, std::string_view bytes);
// FIN (no payload), or RESET / WINDOW / GOAWAY with their 32-bit value.
void appendControl(std::string& out, FrameType type, uint32_t stream, uint32_t value = 0);

// Reads frames from a byte stream cut anywhere; hands DATA payloads on in the pieces they
// arrive in (no copy), and control frames whole.
class FrameDecoder {
 public:
  class Handler {
   public:
    // Each returns false to stop decoding (the session ended inside the call).
    virtual bool onFrameData(uint32_t stream, std::string_view piece) = 0;
    virtual bool onFrameControl(FrameType type, uint32_t stream, uint32_t value) = 0;

   protected:
    ~Handler() = default;
  };

  enum class Result { more, stopped, error };
  Result feed(core::ByteView bytes, Handler& handler);
  // Why the last feed() returned error.
  const std::string& error() const { return error_; }

 private:
  bool checkHeader();

  char header_[kHeaderSize]{};
  std::size_t headerHave_ = 0;
  FrameHeader current_{};
  uint32_t remaining_ = 0;  // payload bytes of current_ still to come
  bool inPayload_ = false;
  char value_[4]{};         // a control frame's payload
  std::string error_;
};

}  // namespace mesh::proxy::mux
