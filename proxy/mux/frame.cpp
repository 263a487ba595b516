#include "proxy/mux/frame.h"

#include <algorithm>

namespace mesh::proxy::mux {

namespace {

void put32(std::string& out, uint32_t v) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
               static_cast<char>(v)};
  out.append(b, 4);
}

uint32_t get32(const char* p) {
  auto u = [p](int i) { return static_cast<uint32_t>(static_cast<unsigned char>(p[i])); };
  return u(0) << 24 | u(1) << 16 | u(2) << 8 | u(3);
}

}  // namespace

void appendHeader(std::string& out, const FrameHeader& header) {
  put32(out, header.length << 8 | static_cast<uint32_t>(header.type));
  put32(out, header.stream);
}

void appendData(std::string& out, uint32_t stream, std::string_view bytes) {
  do {
    std::size_t n = std::min<std::size_t>(bytes.size(), kMaxPayload);
    appendHeader(out, {static_cast<uint32_t>(n), FrameType::data, stream});
    out.append(bytes.data(), n);
    bytes.remove_prefix(n);
  } while (!bytes.empty());
}

void appendControl(std::string& out, FrameType type, uint32_t stream, uint32_t value) {
  bool hasValue = type != FrameType::fin;
  appendHeader(out, {hasValue ? 4u : 0u, type, stream});
  if (hasValue) put32(out, value);
}

bool FrameDecoder::checkHeader() {
  uint32_t first = get32(header_);
  current_.length = first >> 8;
  current_.stream = get32(header_ + 4);
  uint8_t type = static_cast<uint8_t>(first & 0xff);
  if (type > static_cast<uint8_t>(FrameType::goAway)) {
    error_ = "unknown frame type " + std::to_string(type);
    return false;
  }
  current_.type = static_cast<FrameType>(type);
  switch (current_.type) {
    case FrameType::data:
      if (current_.length > kMaxPayload) {
        error_ = "DATA frame of " + std::to_string(current_.length) + " bytes";
        return false;
      }
      break;
    case FrameType::fin:
      if (current_.length != 0) {
        error_ = "FIN frame with a payload";
        return false;
      }
      break;
    default:
      if (current_.length != 4) {
        error_ = "control frame of " + std::to_string(current_.length) + " bytes";
        return false;
      }
  }
  if ((current_.stream == 0) != (current_.type == FrameType::goAway)) {
    error_ = "frame on the wrong stream id";
    return false;
  }
  return true;
}

FrameDecoder::Result FrameDecoder::feed(core::ByteView bytes, Handler& handler) {
  const char* p = bytes.data();
  const char* end = p + bytes.size();
  while (p < end) {
    if (!inPayload_) {
      std::size_t n = std::min<std::size_t>(kHeaderSize - headerHave_, end - p);
      std::copy(p, p + n, header_ + headerHave_);
      headerHave_ += n;
      p += n;
      if (headerHave_ < kHeaderSize) return Result::more;
      headerHave_ = 0;
      if (!checkHeader()) return Result::error;
      inPayload_ = true;
      remaining_ = current_.length;
      if (remaining_ == 0) {  // FIN, or an empty DATA frame (nothing to hand on)
        inPayload_ = false;
        if (current_.type == FrameType::fin &&
            !handler.onFrameControl(FrameType::fin, current_.stream, 0))
          return Result::stopped;
      }
      continue;
    }
    std::size_t n = std::min<std::size_t>(remaining_, end - p);
    if (current_.type == FrameType::data) {
      remaining_ -= static_cast<uint32_t>(n);
      if (remaining_ == 0) inPayload_ = false;
      if (!handler.onFrameData(current_.stream, {p, n})) return Result::stopped;
      p += n;
      continue;
    }
    std::copy(p, p + n, value_ + (4 - remaining_));
    remaining_ -= static_cast<uint32_t>(n);
    p += n;
    if (remaining_ == 0) {
      inPayload_ = false;
      if (!handler.onFrameControl(current_.type, current_.stream, get32(value_)))
        return Result::stopped;
    }
  }
  return Result::more;
}

}  // namespace mesh::proxy::mux
