#include "core/proto/frame.h"

namespace mesh::core {

namespace {

// A partial frame's buffer up to this size is kept for the next one (pings, acks, small
// pushes); a larger one is freed once empty.
constexpr size_t kKeptBufferBytes = 16 * 1024;

void putLength(std::string& out, uint32_t length) {
  out.push_back(static_cast<char>((length >> 24) & 0xff));
  out.push_back(static_cast<char>((length >> 16) & 0xff));
  out.push_back(static_cast<char>((length >> 8) & 0xff));
  out.push_back(static_cast<char>(length & 0xff));
}

uint32_t readLength(std::string_view bytes) {
  auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])); };
  return byte(0) << 24 | byte(1) << 16 | byte(2) << 8 | byte(3);
}

}  // namespace

std::string encodeFrameBytes(std::string_view json) {
  std::string out;
  out.reserve(kFrameHeaderBytes + json.size());
  putLength(out, static_cast<uint32_t>(json.size()));
  out.append(json);
  return out;
}

std::string encodeFrame(const nlohmann::json& message) {
  // Invalid UTF-8 in a string is replaced rather than thrown: a peer's odd bytes echoed in
  // an error reason must not take the sender down.
  return encodeFrameBytes(message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Status FrameDecoder::fail(Status status) {
  error_ = status;
  buffer_.clear();
  buffer_.shrink_to_fit();
  return status;
}

Status FrameDecoder::feed(std::string_view bytes, const MessageHandler& onMessage) {
  if (failed()) return error_;
  // Fast path: whole frames straight from the caller's buffer, no copy.
  std::string_view input = bytes;
  if (!buffer_.empty()) {
    buffer_.append(bytes);
    input = buffer_;
  }
  size_t consumed = 0;
  while (input.size() - consumed >= kFrameHeaderBytes) {
    uint32_t length = readLength(input.substr(consumed));
    if (length > maxFrameBytes_) {
      return fail(error(Code::too_large, "frame of " + std::to_string(length) +
                                             " bytes exceeds the limit of " +
                                             std::to_string(maxFrameBytes_)));
    }
    if (input.size() - consumed - kFrameHeaderBytes < length) break;
    Status status = decodeOne(input.substr(consumed + kFrameHeaderBytes, length), onMessage);
    if (!status.ok()) return fail(status);
    consumed += kFrameHeaderBytes + length;
  }
  if (input.data() == buffer_.data()) {
    buffer_.erase(0, consumed);
  } else {
    buffer_.assign(input.substr(consumed));
  }
  // A config snapshot is one frame of up to megabytes, then the connection idles: its buffer
  // goes once emptied rather than staying allocated at the largest size ever seen.
  if (buffer_.empty() && buffer_.capacity() > kKeptBufferBytes) std::string().swap(buffer_);
  return {};
}

Status FrameDecoder::decodeOne(std::string_view payload, const MessageHandler& onMessage) {
  nlohmann::json message = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (message.is_discarded()) return error(Code::invalid, "malformed JSON in frame");
  if (!message.is_object()) return error(Code::invalid, "frame is not a JSON object");
  auto type = message.find("type");
  if (type == message.end() || !type->is_string() || type->get_ref<const std::string&>().empty()) {
    return error(Code::invalid, "frame has no \"type\" string");
  }
  onMessage(std::move(message));
  return {};
}

nlohmann::json errorMessage(const Status& status) {
  return {{"type", "error"}, {"code", codeName(status.code())}, {"reason", status.message()}};
}

}  // namespace mesh::core
