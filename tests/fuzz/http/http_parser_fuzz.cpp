// libFuzzer driver for the HTTP/1.1 request and response parsers (see README.md).
//
// Input: three control bytes, then the bytes of the connection.
//   byte 0, bit 0      0 = request parser, 1 = response parser
//   byte 0, bits 1-2   responses: the request was 0 GET, 1 HEAD, 2 CONNECT, 3 GET
//   byte 1, bits 0-4   size of the pieces the stream is fed in; 0 = all at once
//   byte 2, bit 0      small limits (so that 431/414/413 paths are reached)
//   byte 2, bit 1      after an upgrade, resumeAfterUpgrade() and go on parsing
//   byte 2, bit 2      pause at every head and message end
// Printable control bytes work: "0@@GET / HTTP/1.1..." is a request fed whole.
//
// Checks, besides the sanitizers: every piece is fed from its own heap buffer that is freed
// once fed, and each head is read again at its message's end, so a view the parser kept
// into the caller's bytes is a use-after-free; events come in a legal order; an error
// carries a status the parser may give; and the stream fed in pieces produces exactly the
// events (bodies joined) of the same stream fed whole, and fails if and only if it does.
// Debugging a finding: HTTP_FUZZ_DEBUG=1 ./http_parser_fuzz crash-... prints both logs.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/http/parser.h"

using namespace mesh::core::http;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void logHead(std::string& log, const MessageHead& h) {
  log += "v" + std::to_string(h.version.major) + std::to_string(h.version.minor);
  log += h.keepAlive ? " ka" : " close";
  log += h.upgrade ? " up" : "";
  log += h.chunked ? " chunked" : "";
  if (h.contentLength) log += " cl=" + std::to_string(*h.contentLength);
  for (const auto& e : h.headers) {
    check(!e.name.empty());
    log += "\n  ";
    log.append(e.name);
    log += ": ";
    log.append(e.value);
  }
  log += "\n";
}

// Records events as text; the comparison of two logs is the differential check.
class Recorder : public RequestHandler, public ResponseHandler {
 public:
  std::string log;
  bool pause = false;
  RequestHead* request = nullptr;
  ResponseHead* response = nullptr;

  Flow onHead(RequestHead& head) override {
    check(!inMessage_);
    inMessage_ = true;
    request = &head;
    log += "REQ ";
    log.append(head.methodName);
    log += " ";
    log.append(head.target);
    log += " ";
    logHead(log, head);
    return pause ? Flow::pause : Flow::proceed;
  }
  Flow onHead(ResponseHead& head) override {
    check(!inMessage_);
    check(head.status >= 100 && head.status <= 999);
    inMessage_ = true;
    response = &head;
    log += "RESP " + std::to_string(head.status) + " ";
    log.append(head.reason);
    log += " ";
    logHead(log, head);
    return pause ? Flow::pause : Flow::proceed;
  }
  void onBody(std::string_view piece) override {
    check(inMessage_);
    check(!piece.empty());
    body_.append(piece);
  }
  Flow onMessageComplete(const HeaderMap& trailers) override {
    check(inMessage_);
    inMessage_ = false;
    log += "BODY " + std::to_string(body_.size()) + ":" + body_ + "\n";
    body_.clear();
    for (const auto& e : trailers) {
      log += "  T ";
      log.append(e.name);
      log += ": ";
      log.append(e.value);
      log += "\n";
    }
    // Read the head again: its views must still be good.
    std::string again;
    if (request) logHead(again, *request);
    if (response) logHead(again, *response);
    log += "END\n";
    return pause ? Flow::pause : Flow::proceed;
  }
  // How much of an unfinished body came through depends on where the reads split when the
  // stream ends in an error (bytes are passed on as they come), so it is logged only when
  // the stream did not fail.
  void flushPartialBody(bool failed) {
    if (!body_.empty() && !failed) {
      log += "PARTIAL " + std::to_string(body_.size()) + ":" + body_ + "\n";
    }
    body_.clear();
  }

 private:
  bool inMessage_ = false;
  std::string body_;
};

template <typename Parser>
void checkStatus(Parser& parser, bool request) {
  int s = parser.error().status;
  if (request) {
    check(s == 400 || s == 413 || s == 414 || s == 431 || s == 501 || s == 505);
  } else {
    check(s == 502);
  }
  check(!parser.error().reason.empty());
}

template <typename Parser>
std::string run(const uint8_t* data, size_t size, size_t piece, bool request, Method asked,
                const ParserLimits& limits, bool resumeUpgrade, bool pause) {
  Recorder rec;
  rec.pause = pause;
  Parser parser(rec, limits);
  if constexpr (std::is_same_v<Parser, ResponseParser>) {
    for (int i = 0; i < 8; ++i) parser.expectResponseTo(asked);
  }
  if (piece == 0) piece = size;
  ParseStatus last = ParseStatus::more;
  size_t start = 0;
  bool stopped = false;
  while (start < size && !stopped) {
    size_t len = std::min(piece, size - start);
    // Its own allocation, freed right after: ASan sees any view kept into it.
    char* buf = static_cast<char*>(std::malloc(len));
    std::memcpy(buf, data + start, len);
    size_t off = 0;
    while (true) {
      ParseResult r = parser.feed(buf + off, len - off);
      check(r.consumed <= len - off);
      off += r.consumed;
      last = r.status;
      // Paused: go on, even with nothing left (a bodyless message paused at its head ends
      // in that call).
      if (r.status == ParseStatus::paused) continue;
      if (r.status == ParseStatus::upgrade && resumeUpgrade) {
        rec.log += "UPGRADE at " + std::to_string(start + off) + "\n";
        parser.resumeAfterUpgrade();
        continue;
      }
      if (r.status == ParseStatus::upgrade || r.status == ParseStatus::closed) {
        // Where the stream is handed back, as an offset in the whole input.
        rec.log += "STOP " + std::to_string(static_cast<int>(r.status)) + " at " +
                   std::to_string(start + off) + "\n";
      }
      stopped = r.status != ParseStatus::more;
      break;
    }
    std::free(buf);
    start += len;
  }
  if (!stopped) {
    ParseResult r = parser.finish();
    last = r.status;
    rec.log += "FINISH " + std::to_string(static_cast<int>(r.status)) + "\n";
  }
  rec.flushPartialBody(last == ParseStatus::error);
  if (last == ParseStatus::error) {
    // Which refusal comes first may depend on the reads when a message breaks two rules
    // (a target both malformed and too long: 400 read whole, 414 when a read ends inside
    // it); that it is refused may not.
    checkStatus(parser, request);
    rec.log += "ERROR\n";
  }
  return rec.log;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  bool request = (data[0] & 1) == 0;
  static const Method kAsked[] = {Method::get, Method::head, Method::connect, Method::get};
  Method asked = kAsked[(data[0] >> 1) & 3];
  size_t piece = data[1] & 0x1f;
  ParserLimits limits;
  if (data[2] & 1) {
    limits.maxHeaderBytes = 64;
    limits.maxHeaderCount = 3;
    limits.maxUrlBytes = 16;
    limits.maxBodyBytes = 32;
    limits.maxChunkExtensionBytes = 8;
  }
  bool resumeUpgrade = (data[2] & 2) != 0;
  bool pause = (data[2] & 4) != 0;
  data += 3;
  size -= 3;

  std::string whole, pieces;
  if (request) {
    whole = run<RequestParser>(data, size, 0, true, asked, limits, resumeUpgrade, pause);
    pieces = run<RequestParser>(data, size, piece, true, asked, limits, resumeUpgrade, pause);
  } else {
    whole = run<ResponseParser>(data, size, 0, false, asked, limits, resumeUpgrade, pause);
    pieces = run<ResponseParser>(data, size, piece, false, asked, limits, resumeUpgrade, pause);
  }
  if (whole != pieces && std::getenv("HTTP_FUZZ_DEBUG")) {
    std::fprintf(stderr, "--- fed whole:\n%s--- fed in pieces of %zu:\n%s", whole.c_str(), piece,
                 pieces.c_str());
  }
  check(whole == pieces);
  return 0;
}
