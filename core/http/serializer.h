// Writing HTTP/1.1: heads into a small owned buffer, bodies passed through untouched.
//
// A message goes out as a gather write: [head][body] for a known length, or
// [head][chunkHeader(n)][piece][kCrlf]...[last chunk] for chunked, so a body is never copied.
// The `out` strings are appended to, so a connection can reuse one buffer (clear() keeps its
// capacity).
//
// Names and values are written as they are: they come from the parser, which refused bad
// ones, or from config and filters, which must check them with isValidHeaderName /
// isValidHeaderValue (chars.h) before they get here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/http/header_map.h"

namespace mesh::core::http {

inline constexpr std::string_view kCrlf = "\r\n";
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";  // without trailers

// "GET /path HTTP/1.1\r\n" + "name: value\r\n"... + "\r\n". `hopLine`, when it has a name,
// is written after the map's lines: a line for this hop only, which the map never holds.
void appendRequestHead(std::string& out, std::string_view method, std::string_view target,
                       const HeaderMap& headers, const HeaderMap::Entry& hopLine = {});
// "HTTP/1.1 404 Not Found\r\n" + lines + "\r\n". An empty `reason` means reasonPhrase(status).
// A status outside 100..999 is written as 500.
void appendResponseHead(std::string& out, int status, const HeaderMap& headers,
                        std::string_view reason = {});
// "name: value\r\n" for each line.
void appendHeaders(std::string& out, const HeaderMap& headers);

// The size line of one chunk, "1a2b\r\n", held by value: no allocation.
class ChunkHeader {
 public:
  explicit ChunkHeader(uint64_t size);
  std::string_view view() const { return {bytes_, size_}; }

 private:
  char bytes_[20];
  uint8_t size_ = 0;
};

// One chunk copied whole, for small pieces where a gather write is not worth it.
// An empty piece writes nothing: a zero-size chunk would end the body.
void appendChunk(std::string& out, std::string_view piece);
// The last chunk and the trailer section: "0\r\n" + lines + "\r\n".
void appendLastChunk(std::string& out, const HeaderMap& trailers);

// A response made here rather than forwarded: errors (400, 403, 404, 413, 431, 503...),
// health checks, admin pages.
struct LocalReply {
  int status = 200;
  std::string_view body;
  std::string_view contentType = "text/plain";  // sent when the body is not empty
  bool close = false;        // adds "connection: close"
  bool headRequest = false;  // the answer to HEAD: content-length of the body, no body
  const HeaderMap* headers = nullptr;  // more lines, written after ours
};
// Head and body in one buffer. "content-length" is always sent (except on 1xx, 204 and
// 304, which have no body), so the client never needs the connection to close to find
// the end.
void appendLocalReply(std::string& out, const LocalReply& reply);
std::string localReply(const LocalReply& reply);

}  // namespace mesh::core::http
