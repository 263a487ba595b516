// HTTP/1.1 request and response parsers on llhttp: bytes in, message events out.
//
// feed() takes bytes in any pieces (a message split across reads, even byte by byte, or
// several pipelined messages in one read) and calls the handler for each event in order:
// onHead once the head is complete and checked, onBody for each piece of the body (chunked
// framing removed), onMessageComplete with the trailers. A handler returns Flow::pause from
// onHead or onMessageComplete to make feed() return right there; the bytes after `consumed`
// have not been looked at and are fed again later, with feed() called even when none are
// left (a request without body paused at onHead completes in that call).
//
// Nothing is copied unless it has to be. Views in a head and in body pieces point into the
// bytes passed to feed() or into the head's HeaderMap arena:
//  - a body piece is valid while onBody runs;
//  - a head is valid from onHead until the next message of this parser begins. While its
//    message is in progress, and when feed() returns paused, upgrade or closed, the parser
//    has copied into its arena whatever still pointed into the caller's bytes, so the
//    caller may reuse its read buffer. After feed() returns `more` with the message
//    complete, the head may still point into the bytes just fed: call head.materialize(),
//    or copy what you need, in onMessageComplete. A head moved out of the parser in onHead
//    keeps the same rules (the parser then starts the next message with a fresh one). So
//    do its lines alone, swapped out of head.headers in onHead: their views may still point
//    into the bytes being fed, and materialize() makes them the taker's.
// Re-entering feed() from a handler is not allowed.
//
// Strictness: llhttp without lenient flags, plus checks of our own that hold whichever mode
// llhttp was compiled in (see parser.cpp): bare CR or LF and obs-fold anywhere in a head or
// trailer section, header names that are not tokens (a space before the colon), characters
// in the request-target that are not visible ASCII, the two bytes after chunk data that
// must be CRLF, Host missing or repeated (HTTP/1.1), Transfer-Encoding in HTTP/1.0, any
// transfer coding but a lone "chunked". A Content-Length repeated with the same value, or
// given as a list ("5, 5"), is refused like differing ones: llhttp treats any repetition as
// a duplicate, and a proxy gains nothing by accepting it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/http/header_map.h"
#include "core/http/message.h"

namespace mesh::core::http {

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  virtual Flow onHead(RequestHead& head) = 0;
  virtual void onBody(std::string_view piece) = 0;
  virtual Flow onMessageComplete(const HeaderMap& trailers) = 0;
};

class ResponseHandler {
 public:
  virtual ~ResponseHandler() = default;
  // Also called for interim (1xx) responses, each followed by onMessageComplete.
  virtual Flow onHead(ResponseHead& head) = 0;
  virtual void onBody(std::string_view piece) = 0;
  virtual Flow onMessageComplete(const HeaderMap& trailers) = 0;
};

namespace detail {

// What the typed parsers share: the llhttp state, limits, checks and piece bookkeeping.
class ParserCore {
 public:
  class Sink {
   public:
    virtual Flow deliverHead() = 0;
    virtual void deliverBody(std::string_view piece) = 0;
    virtual Flow deliverComplete(const HeaderMap& trailers) = 0;

   protected:
    ~Sink() = default;
  };

  // `startText` is where the request-target or the reason phrase goes.
  ParserCore(bool request, MessageHead& head, std::string_view& startText, Sink& sink,
             const ParserLimits& limits);
  ~ParserCore();
  ParserCore(const ParserCore&) = delete;
  ParserCore& operator=(const ParserCore&) = delete;

  ParseResult feed(const char* data, size_t len);
  ParseResult finish();
  void reset();
  void resumeAfterUpgrade();
  const ParseError& error() const { return error_; }
  bool messageInProgress() const { return inMessage_; }
  std::string_view input() const { return input_; }
  uint8_t llhttpMethod() const;
  int statusCode() const;
  // Response parsing: the methods of the requests sent, in order, so that a response to
  // HEAD is read without a body and a 2xx to CONNECT becomes a tunnel.
  void expectResponseTo(Method method) { pendingMethods_.push_back(method); }

 private:
  friend struct LlhttpGlue;
  enum class Phase : uint8_t { head, body, trailers };
  enum class Pause : uint8_t { none, headers, lastChunk, message, extensionFix };

  // llhttp callbacks (parser.cpp); a non-zero return stops llhttp.
  int onMessageBegin();
  int onUrl(const char* at, size_t n);
  int onStatus(const char* at, size_t n);
  int onHeaderField(const char* at, size_t n);
  int onHeaderFieldComplete();
  int onHeaderValue(const char* at, size_t n);
  int onHeaderValueComplete();
  int onHeadersComplete();
  int onBody(const char* at, size_t n);
  int onChunkHeader();
  int onChunkExtensionName(const char* at, size_t n);
  int onChunkExtensionValue(const char* at, size_t n);
  int onChunkExtensionValueComplete();
  int onMessageComplete();

  int fail(int status, ParseErrorKind kind, std::string_view reason);  // returns HPE_USER
  ParseResult stop(ParseStatus status, size_t consumed);
  ParseResult failNow(size_t consumed, int status, ParseErrorKind kind, std::string_view why);
  // Bare CR, bare LF and obs-fold in a head or trailer section, which may arrive in pieces.
  bool scanLines(const char* p, size_t n);
  bool failScan(std::string_view why);  // a malformed section: 400; returns false
  bool checkChunkCrlf(const char*& p, const char* end);
  bool checkHead();
  bool checkTransferEncoding();
  void appendPiece(std::string_view& acc, const char* at, size_t n, HeaderMap& store);
  HeaderMap& currentMap() { return phase_ == Phase::trailers ? trailers_ : head_.headers; }
  void stabilize();
  void startMessage();
  void llhttpError(int err, const char* reason);

  bool request_;
  MessageHead& head_;
  std::string_view& startText_;
  Sink& sink_;
  ParserLimits limits_;
  // llhttp_t, kept opaque so that this header does not pull llhttp's C names in.
  alignas(8) unsigned char llhttp_[96];

  ParseStatus terminal_ = ParseStatus::more;  // error, upgrade or closed once reached
  ParseError error_;
  Phase phase_ = Phase::head;
  Pause pause_ = Pause::none;
  bool inMessage_ = false;
  bool inFinish_ = false;
  bool pending_ = false;  // llhttp has steps to take that need no input
  // Line-ending scanner state for head and trailer sections.
  bool afterCr_ = false;
  bool lineStart_ = true;
  size_t sectionBytes_ = 0;  // bytes of the current head or trailer section
  size_t sectionLines_ = 0;  // header lines in it
  size_t urlBytes_ = 0;
  std::string_view field_;
  std::string_view value_;
  HeaderMap trailers_;
  uint64_t bodyBytes_ = 0;
  uint64_t chunkLeft_ = 0;
  int crlfNeeded_ = 0;  // bytes of the CRLF after chunk data not yet seen
  size_t extensionBytes_ = 0;
  size_t extensionValueBytes_ = 0;
  bool extensionQuoted_ = false;
  char extensionTerminator_ = 0;
  const char* execBegin_ = nullptr;
  const char* execEnd_ = nullptr;
  std::string_view input_;  // the bytes of the feed() in progress, or of the last one
  std::vector<Method> pendingMethods_;
  size_t nextMethod_ = 0;
};

}  // namespace detail

class RequestParser : private detail::ParserCore::Sink {
 public:
  explicit RequestParser(RequestHandler& handler, const ParserLimits& limits = {});

  ParseResult feed(std::string_view bytes) { return core_.feed(bytes.data(), bytes.size()); }
  ParseResult feed(const char* data, size_t len) { return core_.feed(data, len); }
  // The peer closed its side: completes nothing for requests, reports a truncated message.
  ParseResult finish() { return core_.finish(); }
  // After ParseStatus::upgrade, when the upgrade did not happen (the upstream declined):
  // parse the following bytes as HTTP again.
  void resumeAfterUpgrade() { core_.resumeAfterUpgrade(); }
  // Back to a fresh connection (keeps allocated memory).
  void reset() { core_.reset(); }
  const ParseError& error() const { return core_.error(); }
  bool messageInProgress() const { return core_.messageInProgress(); }
  // The bytes of the feed() in progress: what a head's views may point into during onHead.
  std::string_view input() const { return core_.input(); }
  RequestHead& head() { return head_; }

 private:
  Flow deliverHead() override;
  void deliverBody(std::string_view piece) override { handler_.onBody(piece); }
  Flow deliverComplete(const HeaderMap& trailers) override {
    return handler_.onMessageComplete(trailers);
  }

  RequestHandler& handler_;
  RequestHead head_;
  detail::ParserCore core_;  // after head_: it refers to it
};

class ResponseParser : private detail::ParserCore::Sink {
 public:
  explicit ResponseParser(ResponseHandler& handler, const ParserLimits& limits = {});

  // Call once per request sent on the connection, in order, before its response arrives.
  // Unannounced responses are read as answers to GET.
  void expectResponseTo(Method requestMethod) { core_.expectResponseTo(requestMethod); }
  ParseResult feed(std::string_view bytes) { return core_.feed(bytes.data(), bytes.size()); }
  ParseResult feed(const char* data, size_t len) { return core_.feed(data, len); }
  // The upstream closed: completes a body read until close (status closed), or reports a
  // truncated message.
  ParseResult finish() { return core_.finish(); }
  void resumeAfterUpgrade() { core_.resumeAfterUpgrade(); }
  void reset() { core_.reset(); }
  const ParseError& error() const { return core_.error(); }
  bool messageInProgress() const { return core_.messageInProgress(); }
  ResponseHead& head() { return head_; }

 private:
  Flow deliverHead() override;
  void deliverBody(std::string_view piece) override { handler_.onBody(piece); }
  Flow deliverComplete(const HeaderMap& trailers) override {
    return handler_.onMessageComplete(trailers);
  }

  ResponseHandler& handler_;
  ResponseHead head_;
  detail::ParserCore core_;
};

// The token of a method as llhttp knows it; Method::other has none ("").
std::string_view methodName(Method method);

}  // namespace mesh::core::http
