// Framing of the control protocol (docs/protocol.md): each frame is a 4-byte big-endian
// length followed by that many bytes of one UTF-8 JSON object carrying a "type" string.
// FrameDecoder turns a byte stream cut at arbitrary points into whole messages; any
// violation (oversized frame, malformed JSON, missing type) is fatal for the connection:
// the caller sends an error frame and closes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/base/status.h"

namespace mesh::core {

// The largest frame either side accepts, unless configured otherwise.
inline constexpr size_t kDefaultMaxFrameBytes = 16 * 1024 * 1024;
inline constexpr size_t kFrameHeaderBytes = 4;

// Serialises `message` as one frame: length prefix plus compact JSON.
std::string encodeFrame(const nlohmann::json& message);
// Frames an already serialised JSON object (pilot shares the same bytes among many proxies).
std::string encodeFrameBytes(std::string_view json);

class FrameDecoder {
 public:
  using MessageHandler = std::function<void(nlohmann::json&& message)>;

  explicit FrameDecoder(size_t maxFrameBytes = kDefaultMaxFrameBytes)
      : maxFrameBytes_(maxFrameBytes) {}

  // Consumes `bytes`, calling `onMessage` for each complete frame in order. Returns the first
  // error; after an error the decoder stays failed and ignores further input.
  Status feed(std::string_view bytes, const MessageHandler& onMessage);

  bool failed() const { return !error_.ok(); }
  // Bytes received but not yet part of a complete frame.
  size_t buffered() const { return buffer_.size(); }

 private:
  Status fail(Status status);
  Status decodeOne(std::string_view payload, const MessageHandler& onMessage);

  size_t maxFrameBytes_;
  std::string buffer_;
  Status error_;
};

// The error frame sent before closing a connection: {"type":"error","code":..,"reason":..}.
nlohmann::json errorMessage(const Status& status);

}  // namespace mesh::core
