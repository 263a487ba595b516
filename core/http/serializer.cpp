#include "core/http/serializer.h"

#include <charconv>
#include <cstring>

#include "core/http/chars.h"
#include "core/http/reason_phrase.h"

namespace mesh::core::http {

namespace {

void appendDecimal(std::string& out, uint64_t n) {
  char buf[20];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  (void)ec;  // 20 digits hold any uint64_t
  out.append(buf, static_cast<size_t>(end - buf));
}

void appendStatusLine(std::string& out, int status, std::string_view reason) {
  if (status < 100 || status > 999) {
    status = 500;
    reason = {};
  }
  if (reason.empty()) reason = reasonPhrase(status);
  char code[3] = {static_cast<char>('0' + status / 100), static_cast<char>('0' + status / 10 % 10),
                  static_cast<char>('0' + status % 10)};
  out += "HTTP/1.1 ";
  out.append(code, 3);
  out += ' ';
  out += reason;
  out += kCrlf;
}

bool hasBody(int status) { return status >= 200 && status != 204 && status != 304; }

// The lines written straight into room made for them: four appends per line, each checking
// capacity, cost more than the copying itself.
char* writeHeaders(char* p, const HeaderMap& headers) {
  for (const HeaderMap::Entry& e : headers) {
    std::memcpy(p, e.name.data(), e.name.size());
    p += e.name.size();
    *p++ = ':';
    *p++ = ' ';
    if (!e.value.empty()) std::memcpy(p, e.value.data(), e.value.size());  // may be null
    p += e.value.size();
    *p++ = '\r';
    *p++ = '\n';
  }
  return p;
}

}  // namespace

void appendHeaders(std::string& out, const HeaderMap& headers) {
  size_t at = out.size();
  out.resize(at + headers.serializedSize());
  writeHeaders(out.data() + at, headers);
}

void appendRequestHead(std::string& out, std::string_view method, std::string_view target,
                       const HeaderMap& headers, const HeaderMap::Entry& hopLine) {
  constexpr std::string_view kVersion = " HTTP/1.1\r\n";
  size_t hopBytes = hopLine.name.empty() ? 0 : hopLine.name.size() + 2 + hopLine.value.size() + 2;
  size_t at = out.size();
  out.resize(at + method.size() + 1 + target.size() + kVersion.size() +
             headers.serializedSize() + hopBytes + 2);
  char* p = out.data() + at;
  auto put = [&p](std::string_view s) {
    if (!s.empty()) std::memcpy(p, s.data(), s.size());
    p += s.size();
  };
  put(method);
  *p++ = ' ';
  put(target);
  put(kVersion);
  p = writeHeaders(p, headers);
  if (hopBytes) {
    put(hopLine.name);
    put(": ");
    put(hopLine.value);
    put(kCrlf);
  }
  put(kCrlf);
}

void appendResponseHead(std::string& out, int status, const HeaderMap& headers,
                        std::string_view reason) {
  out.reserve(out.size() + 16 + 32 + headers.serializedSize() + 2);
  appendStatusLine(out, status, reason);
  appendHeaders(out, headers);
  out += kCrlf;
}

ChunkHeader::ChunkHeader(uint64_t size) {
  auto [end, ec] = std::to_chars(bytes_, bytes_ + 16, size, 16);
  (void)ec;  // 16 hex digits hold any uint64_t
  *end++ = '\r';
  *end++ = '\n';
  size_ = static_cast<uint8_t>(end - bytes_);
}

void appendChunk(std::string& out, std::string_view piece) {
  if (piece.empty()) return;
  ChunkHeader header(piece.size());
  out.reserve(out.size() + header.view().size() + piece.size() + 2);
  out += header.view();
  out += piece;
  out += kCrlf;
}

void appendLastChunk(std::string& out, const HeaderMap& trailers) {
  out += "0\r\n";
  appendHeaders(out, trailers);
  out += kCrlf;
}

void appendLocalReply(std::string& out, const LocalReply& reply) {
  int status = (reply.status < 100 || reply.status > 999) ? 500 : reply.status;
  bool body = hasBody(status);
  bool extraType = reply.headers && reply.headers->has("content-type");
  out.reserve(out.size() + 128 + reply.body.size() +
              (reply.headers ? reply.headers->serializedSize() : 0));
  appendStatusLine(out, status, {});
  if (body) {
    if (!reply.body.empty() && !extraType) {
      out += "content-type: ";
      out += reply.contentType;
      out += kCrlf;
    }
    out += "content-length: ";
    appendDecimal(out, reply.body.size());
    out += kCrlf;
  }
  if (reply.close) {
    out += "connection: close";
    out += kCrlf;
  }
  if (reply.headers) appendHeaders(out, *reply.headers);
  out += kCrlf;
  if (body && !reply.headRequest) out += reply.body;
}

std::string localReply(const LocalReply& reply) {
  std::string out;
  appendLocalReply(out, reply);
  return out;
}

}  // namespace mesh::core::http
