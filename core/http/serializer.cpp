#include "core/http/serializer.h"

#include <charconv>

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

}  // namespace

void appendHeaders(std::string& out, const HeaderMap& headers) {
  out.reserve(out.size() + headers.serializedSize());
  for (const HeaderMap::Entry& e : headers) {
    out += e.name;
    out += ": ";
    out += e.value;
    out += kCrlf;
  }
}

void appendRequestHead(std::string& out, std::string_view method, std::string_view target,
                       const HeaderMap& headers) {
  out.reserve(out.size() + method.size() + target.size() + 13 + headers.serializedSize() + 2);
  out += method;
  out += ' ';
  out += target;
  out += " HTTP/1.1";
  out += kCrlf;
  appendHeaders(out, headers);
  out += kCrlf;
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
