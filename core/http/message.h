// What the HTTP/1.1 codec hands over: message heads, parse errors, parser limits.
// No llhttp types appear here, so code that uses the codec does not include llhttp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

#include "core/http/header_map.h"

namespace mesh::core::http {

// The methods whose meaning the codec or the proxy's framing depends on; every other method
// llhttp knows is `other`, and methodName always has the exact token.
enum class Method : uint8_t {
  get, head, post, put, delete_, connect, options, trace, patch, other
};

struct Version {
  uint8_t major = 1;
  uint8_t minor = 1;
  bool operator==(const Version&) const = default;
};

// Fields common to requests and responses. Views follow HeaderMap's rules (see header_map.h
// and the parser's header for how long they live).
struct MessageHead {
  Version version;
  HeaderMap headers;
  // llhttp_should_keep_alive: HTTP/1.1 without "Connection: close", or HTTP/1.0 with
  // "Connection: keep-alive", and a body whose end is known without closing.
  bool keepAlive = true;
  // The rest of the connection after this message is another protocol: CONNECT, a request
  // with "Upgrade" and "Connection: upgrade", a 101 response, a 2xx answer to CONNECT.
  bool upgrade = false;
  bool chunked = false;
  std::optional<uint64_t> contentLength;
};

struct RequestHead : MessageHead {
  Method method = Method::get;
  std::string_view methodName;  // static storage
  std::string_view target;      // origin-form "/a?b", absolute-form, authority-form, "*"

  // Copies every view that still points outside the head (into a read buffer) into the
  // headers' arena: the head then lives as long as the object.
  void materialize() {
    headers.materialize();
    if (!headers.owns(target)) target = headers.store(target);
  }
};

struct ResponseHead : MessageHead {
  int status = 0;
  std::string_view reason;

  void materialize() {
    headers.materialize();
    if (!headers.owns(reason)) reason = headers.store(reason);
  }
};

// Why a message was refused; names appear in metrics (see parseErrorKindName).
enum class ParseErrorKind : uint8_t {
  malformed,          // 400: syntax, bad characters, bare CR or LF, obs-fold
  framing,            // 400: CL+TE, repeated or invalid Content-Length, bad chunk
  header_bytes,       // 431: head or trailers over maxHeaderBytes
  header_count,       // 431: more than maxHeaderCount lines
  uri_length,         // 414
  body_size,          // 413
  transfer_encoding,  // 501: a transfer coding other than chunked
  version,            // 505: not HTTP/1.0 or HTTP/1.1
  truncated,          // 400: the peer closed in the middle of a message
};

const char* parseErrorKindName(ParseErrorKind kind);

struct ParseError {
  // The status to answer with. A response parser reports 502: the upstream misbehaved.
  int status = 0;
  ParseErrorKind kind = ParseErrorKind::malformed;
  std::string_view reason;  // short, static storage, safe to log
};

struct ParserLimits {
  // Start line, header lines and the blank line, CRLFs included; trailers count on their own.
  size_t maxHeaderBytes = 60 * 1024;
  size_t maxHeaderCount = 100;
  size_t maxUrlBytes = 8 * 1024;
  uint64_t maxBodyBytes = std::numeric_limits<uint64_t>::max();
  // All extensions of one chunk-size line ("5;name=value;...").
  size_t maxChunkExtensionBytes = 4 * 1024;
};

// What a handler's onHead / onMessageComplete asks of the parser.
enum class Flow : uint8_t {
  proceed,
  pause,  // feed() returns ParseStatus::paused right after this message event
};

enum class ParseStatus : uint8_t {
  more,     // all bytes consumed; feed more when they arrive
  paused,   // a handler asked to pause: bytes after `consumed` are not parsed yet
  upgrade,  // an upgrade message ended: bytes after `consumed` belong to the new protocol
  closed,   // the message ended without keep-alive: bytes after `consumed` are to be ignored
  error,    // see error(); the connection should answer error().status and close
};

struct ParseResult {
  ParseStatus status = ParseStatus::more;
  size_t consumed = 0;
};

}  // namespace mesh::core::http
