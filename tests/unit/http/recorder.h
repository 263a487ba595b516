// Test handlers that record what a parser delivered as owned strings, and helpers that feed
// a parser in pieces from buffers that are scribbled over once fed, so that a view the
// parser kept into the caller's bytes shows up as garbage (and under ASan as an error).
#pragma once

#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/http/parser.h"

namespace mesh::core::http::test {

using Lines = std::vector<std::pair<std::string, std::string>>;

inline Lines linesOf(const HeaderMap& map) {
  Lines out;
  for (const auto& e : map) out.emplace_back(std::string(e.name), std::string(e.value));
  return out;
}

struct Recorded {
  std::string method;  // requests
  Method methodCode = Method::other;
  std::string target;
  int status = 0;  // responses
  std::string reason;
  Version version;
  Lines headers;
  bool keepAlive = false;
  bool upgrade = false;
  bool chunked = false;
  std::optional<uint64_t> contentLength;
  std::string body;
  Lines trailers;
  bool complete = false;
  // The head as seen again at onMessageComplete: it must not have changed.
  Lines headersAtComplete;
  std::string startTextAtComplete;

  bool operator==(const Recorded&) const = default;
};

inline void recordCommon(Recorded& r, const MessageHead& h) {
  r.version = h.version;
  r.headers = linesOf(h.headers);
  r.keepAlive = h.keepAlive;
  r.upgrade = h.upgrade;
  r.chunked = h.chunked;
  r.contentLength = h.contentLength;
}

class RequestRecorder : public RequestHandler {
 public:
  std::vector<Recorded> messages;
  Flow afterHead = Flow::proceed;
  Flow afterMessage = Flow::proceed;

  Flow onHead(RequestHead& head) override {
    head_ = &head;
    Recorded r;
    r.method = std::string(head.methodName);
    r.methodCode = head.method;
    r.target = std::string(head.target);
    recordCommon(r, head);
    messages.push_back(std::move(r));
    return afterHead;
  }
  void onBody(std::string_view piece) override { messages.back().body += piece; }
  Flow onMessageComplete(const HeaderMap& trailers) override {
    Recorded& r = messages.back();
    r.trailers = linesOf(trailers);
    r.complete = true;
    r.headersAtComplete = linesOf(head_->headers);
    r.startTextAtComplete = std::string(head_->target);
    return afterMessage;
  }

 private:
  RequestHead* head_ = nullptr;
};

class ResponseRecorder : public ResponseHandler {
 public:
  std::vector<Recorded> messages;
  Flow afterHead = Flow::proceed;
  Flow afterMessage = Flow::proceed;

  Flow onHead(ResponseHead& head) override {
    head_ = &head;
    Recorded r;
    r.status = head.status;
    r.reason = std::string(head.reason);
    recordCommon(r, head);
    messages.push_back(std::move(r));
    return afterHead;
  }
  void onBody(std::string_view piece) override { messages.back().body += piece; }
  Flow onMessageComplete(const HeaderMap& trailers) override {
    Recorded& r = messages.back();
    r.trailers = linesOf(trailers);
    r.complete = true;
    r.headersAtComplete = linesOf(head_->headers);
    r.startTextAtComplete = std::string(head_->reason);
    return afterMessage;
  }

 private:
  ResponseHead* head_ = nullptr;
};

struct FeedOutcome {
  ParseStatus status = ParseStatus::more;
  size_t consumed = 0;  // of the whole input
};

// Feeds `input` cut at `cuts` (ascending offsets), each piece from its own heap buffer that
// is overwritten with '#' after feed() returns. Keeps feeding after `paused` until the
// input is used up or the parser stops for good.
template <typename Parser>
FeedOutcome feedPieces(Parser& parser, const std::string& input, const std::vector<size_t>& cuts) {
  FeedOutcome out;
  size_t start = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(input.size());
  for (size_t end : ends) {
    if (end <= start) continue;
    std::vector<char> buf(input.begin() + static_cast<long>(start),
                          input.begin() + static_cast<long>(end));
    size_t off = 0;
    while (true) {
      ParseResult r = parser.feed(buf.data() + off, buf.size() - off);
      off += r.consumed;
      out.status = r.status;
      if (r.status != ParseStatus::paused || off == buf.size()) break;
    }
    out.consumed = start + off;
    std::memset(buf.data(), '#', buf.size());
    if (out.status != ParseStatus::more && out.status != ParseStatus::paused) return out;
    start = end;
  }
  return out;
}

template <typename Parser>
FeedOutcome feedWhole(Parser& parser, const std::string& input) {
  return feedPieces(parser, input, {});
}

template <typename Parser>
FeedOutcome feedBytewise(Parser& parser, const std::string& input) {
  std::vector<size_t> cuts;
  for (size_t i = 1; i < input.size(); ++i) cuts.push_back(i);
  return feedPieces(parser, input, cuts);
}

}  // namespace mesh::core::http::test
