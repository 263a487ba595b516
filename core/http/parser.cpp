// How the parser drives llhttp.
//
// llhttp runs one section of a message at a time: our callbacks pause it (HPE_PAUSED) when a
// head is complete, when the last chunk's size line is read, and when a message ends. A
// pause tells exactly where a section ended, so:
//  - the head and trailer sections are scanned once more here for bare CR, bare LF and
//    obs-fold, which llhttp 8 lets through (in its default, non-strict build, some of them
//    even when built strict);
//  - the limit on head bytes is exact: llhttp is never handed more of a head than the limit;
//  - checks that need the whole head (Host, Transfer-Encoding, version, body size) run before
//    the handler sees the head;
//  - the handler can pause between pipelined messages.
// Our callbacks only record; the handler is called from feed(), outside llhttp, except for
// body pieces, which go straight through.
#include "core/http/parser.h"

#include <llhttp.h>

#include <algorithm>
#include <cstring>
#include <new>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/http/chars.h"

namespace mesh::core::http {

const char* parseErrorKindName(ParseErrorKind kind) {
  switch (kind) {
    case ParseErrorKind::malformed: return "malformed";
    case ParseErrorKind::framing: return "framing";
    case ParseErrorKind::header_bytes: return "header_bytes";
    case ParseErrorKind::header_count: return "header_count";
    case ParseErrorKind::uri_length: return "uri_length";
    case ParseErrorKind::body_size: return "body_size";
    case ParseErrorKind::transfer_encoding: return "transfer_encoding";
    case ParseErrorKind::version: return "version";
    case ParseErrorKind::truncated: return "truncated";
  }
  return "unknown";
}

std::string_view methodName(Method method) {
  switch (method) {
    case Method::get: return "GET";
    case Method::head: return "HEAD";
    case Method::post: return "POST";
    case Method::put: return "PUT";
    case Method::delete_: return "DELETE";
    case Method::connect: return "CONNECT";
    case Method::options: return "OPTIONS";
    case Method::trace: return "TRACE";
    case Method::patch: return "PATCH";
    case Method::other: return "";
  }
  return "";
}

namespace {

Method fromLlhttp(uint8_t m) {
  switch (m) {
    case HTTP_GET: return Method::get;
    case HTTP_HEAD: return Method::head;
    case HTTP_POST: return Method::post;
    case HTTP_PUT: return Method::put;
    case HTTP_DELETE: return Method::delete_;
    case HTTP_CONNECT: return Method::connect;
    case HTTP_OPTIONS: return Method::options;
    case HTTP_TRACE: return Method::trace;
    case HTTP_PATCH: return Method::patch;
    default: return Method::other;
  }
}

// llhttp 8.1 cannot parse a chunk extension list in which an unquoted value is followed by
// another extension ("5;a=b;c=d"): after the value it consumes the ';' and then expects
// one. We ask once whether the linked llhttp has that fault; if so, each time it happens we
// pause llhttp there and hand it the ';' it wants (see Pause::extensionFix).
bool llhttpNeedsExtensionFix() {
  static const bool needs = [] {
    llhttp_settings_t settings;
    llhttp_settings_init(&settings);
    llhttp_t probe;
    llhttp_init(&probe, HTTP_REQUEST, &settings);
    static const char kProbe[] =
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;a=b;c=d\r\nx\r\n0\r\n\r\n";
    return llhttp_execute(&probe, kProbe, sizeof kProbe - 1) != HPE_OK;
  }();
  return needs;
}

// The first CR or LF in [p, end), or end: sixteen bytes at a time with SSE2 (every x86-64
// has it), else eight at a time in a word, where a byte equal to b makes (x ^ b*0x01..)
// have a zero byte, which (v - 0x01..) & ~v & 0x80.. detects exactly.
const char* findCrOrLf(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i lf = _mm_set1_epi8('\n');
  while (end - p >= 16) {
    __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i hits = _mm_or_si128(_mm_cmpeq_epi8(bytes, cr), _mm_cmpeq_epi8(bytes, lf));
    if (int mask = _mm_movemask_epi8(hits)) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  while (end - p >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    uint64_t cr = w ^ (kOnes * '\r');
    uint64_t lf = w ^ (kOnes * '\n');
    if ((((cr - kOnes) & ~cr) | ((lf - kOnes) & ~lf)) & kHigh) break;
    p += 8;
  }
  while (p < end && *p != '\r' && *p != '\n') ++p;
  return p;
}

}  // namespace

namespace detail {

static_assert(sizeof(llhttp_t) <= 96, "ParserCore::llhttp_ is too small for llhttp_t");
static_assert(alignof(llhttp_t) <= 8, "ParserCore::llhttp_ is not aligned for llhttp_t");

struct LlhttpGlue {
  static llhttp_t* ll(ParserCore& c) {
    return std::launder(reinterpret_cast<llhttp_t*>(c.llhttp_));
  }
  static const llhttp_t* ll(const ParserCore& c) {
    return std::launder(reinterpret_cast<const llhttp_t*>(c.llhttp_));
  }
  static ParserCore& core(llhttp_t* p) { return *static_cast<ParserCore*>(p->data); }

  static int messageBegin(llhttp_t* p) { return core(p).onMessageBegin(); }
  static int url(llhttp_t* p, const char* at, size_t n) { return core(p).onUrl(at, n); }
  static int status(llhttp_t* p, const char* at, size_t n) { return core(p).onStatus(at, n); }
  static int field(llhttp_t* p, const char* at, size_t n) { return core(p).onHeaderField(at, n); }
  static int fieldComplete(llhttp_t* p) { return core(p).onHeaderFieldComplete(); }
  static int value(llhttp_t* p, const char* at, size_t n) { return core(p).onHeaderValue(at, n); }
  static int valueComplete(llhttp_t* p) { return core(p).onHeaderValueComplete(); }
  static int headersComplete(llhttp_t* p) { return core(p).onHeadersComplete(); }
  static int body(llhttp_t* p, const char* at, size_t n) { return core(p).onBody(at, n); }
  static int chunkHeader(llhttp_t* p) { return core(p).onChunkHeader(); }
  static int extName(llhttp_t* p, const char* at, size_t n) {
    return core(p).onChunkExtensionName(at, n);
  }
  static int extValue(llhttp_t* p, const char* at, size_t n) {
    return core(p).onChunkExtensionValue(at, n);
  }
  static int extValueComplete(llhttp_t* p) { return core(p).onChunkExtensionValueComplete(); }
  static int messageComplete(llhttp_t* p) { return core(p).onMessageComplete(); }

  static const llhttp_settings_t& settings() {
    static const llhttp_settings_t s = [] {
      llhttp_settings_t v;
      llhttp_settings_init(&v);
      v.on_message_begin = messageBegin;
      v.on_url = url;
      v.on_status = status;
      v.on_header_field = field;
      v.on_header_field_complete = fieldComplete;
      v.on_header_value = value;
      v.on_header_value_complete = valueComplete;
      v.on_headers_complete = headersComplete;
      v.on_body = body;
      v.on_chunk_header = chunkHeader;
      v.on_chunk_extension_name = extName;
      v.on_chunk_extension_value = extValue;
      v.on_chunk_extension_value_complete = extValueComplete;
      v.on_message_complete = messageComplete;
      return v;
    }();
    return s;
  }
};

ParserCore::ParserCore(bool request, MessageHead& head, std::string_view& startText, Sink& sink,
                       const ParserLimits& limits)
    : request_(request), head_(head), startText_(startText), sink_(sink), limits_(limits) {
  new (llhttp_) llhttp_t;
  reset();
}

ParserCore::~ParserCore() = default;

void ParserCore::reset() {
  llhttp_t* p = LlhttpGlue::ll(*this);
  llhttp_init(p, request_ ? HTTP_REQUEST : HTTP_RESPONSE, &LlhttpGlue::settings());
  p->data = this;
  terminal_ = ParseStatus::more;
  error_ = {};
  phase_ = Phase::head;
  pause_ = Pause::none;
  inMessage_ = false;
  inFinish_ = false;
  pending_ = false;
  afterCr_ = false;
  lineStart_ = true;
  sectionBytes_ = 0;
  sectionLines_ = 0;
  crlfNeeded_ = 0;
  field_ = value_ = {};
  pendingMethods_.clear();
  nextMethod_ = 0;
}

uint8_t ParserCore::llhttpMethod() const { return LlhttpGlue::ll(*this)->method; }
int ParserCore::statusCode() const { return LlhttpGlue::ll(*this)->status_code; }

int ParserCore::fail(int status, ParseErrorKind kind, std::string_view reason) {
  if (error_.status == 0) error_ = ParseError{request_ ? status : 502, kind, reason};
  return HPE_USER;
}

ParseResult ParserCore::failNow(size_t consumed, int status, ParseErrorKind kind,
                                std::string_view why) {
  fail(status, kind, why);
  return stop(ParseStatus::error, consumed);
}

ParseResult ParserCore::stop(ParseStatus status, size_t consumed) {
  if (status == ParseStatus::error || status == ParseStatus::upgrade ||
      status == ParseStatus::closed) {
    terminal_ = status;
  }
  if (status != ParseStatus::error) stabilize();
  return {status, consumed};
}

void ParserCore::stabilize() {
  HeaderMap& headers = head_.headers;
  // Only what points into the bytes of this feed() needs a copy. The start line's text may
  // also live in an arena that a handler took in onHead along with the head's lines (see
  // parser.h); that one stays valid, and the parser must not read it again.
  auto start = reinterpret_cast<uintptr_t>(startText_.data());
  auto input = reinterpret_cast<uintptr_t>(input_.data());
  if (!startText_.empty() && start >= input && start < input + input_.size()) {
    startText_ = headers.store(startText_);
  }
  headers.materialize(input_);
  trailers_.materialize(input_);
  HeaderMap& current = currentMap();
  if (!current.owns(field_)) field_ = current.store(field_);
  if (!current.owns(value_)) value_ = current.store(value_);
}

void ParserCore::appendPiece(std::string_view& acc, const char* at, size_t n, HeaderMap& store) {
  if (n == 0) return;
  if (acc.empty()) {
    acc = {at, n};
  } else if (!store.owns(acc) && acc.data() + acc.size() == at) {
    acc = {acc.data(), acc.size() + n};  // the same read, contiguous
  } else {
    acc = store.storeAppend(acc, {at, n});
  }
}

// ---- llhttp callbacks ----

int ParserCore::onMessageBegin() {
  inMessage_ = true;
  head_.headers.clear();
  head_.version = {};
  head_.keepAlive = true;
  head_.upgrade = false;
  head_.chunked = false;
  head_.contentLength.reset();
  startText_ = {};
  trailers_.clear();
  field_ = value_ = {};
  urlBytes_ = 0;
  sectionLines_ = 0;
  bodyBytes_ = 0;
  chunkLeft_ = 0;
  crlfNeeded_ = 0;
  extensionBytes_ = 0;
  extensionValueBytes_ = 0;
  extensionQuoted_ = false;
  extensionTerminator_ = 0;
  return 0;
}

int ParserCore::onUrl(const char* at, size_t n) {
  urlBytes_ += n;
  if (urlBytes_ > limits_.maxUrlBytes) {
    return fail(414, ParseErrorKind::uri_length, "request-target too long");
  }
  for (size_t i = 0; i < n; ++i) {
    if (!isValidTargetChar(at[i])) {
      return fail(400, ParseErrorKind::malformed, "invalid character in request-target");
    }
  }
  appendPiece(startText_, at, n, head_.headers);
  return 0;
}

int ParserCore::onStatus(const char* at, size_t n) {
  appendPiece(startText_, at, n, head_.headers);
  return 0;
}

int ParserCore::onHeaderField(const char* at, size_t n) {
  // llhttp refuses every other byte that is not a tchar in a name; it lets a space through
  // ("Transfer Encoding: chunked"), which some servers would read as another header.
  // smuggling_test tries every byte, so a newer llhttp that lets more through is caught.
  if (std::memchr(at, ' ', n) != nullptr) {
    return fail(400, ParseErrorKind::malformed, "invalid character in header name");
  }
  appendPiece(field_, at, n, currentMap());
  return 0;
}

int ParserCore::onHeaderFieldComplete() {
  if (field_.empty()) return fail(400, ParseErrorKind::malformed, "empty header name");
  if (++sectionLines_ > limits_.maxHeaderCount) {
    return fail(431, ParseErrorKind::header_count,
                phase_ == Phase::trailers ? "too many trailer fields" : "too many header fields");
  }
  return 0;
}

int ParserCore::onHeaderValue(const char* at, size_t n) {
  appendPiece(value_, at, n, currentMap());
  return 0;
}

int ParserCore::onHeaderValueComplete() {
  std::string_view v = value_;
  while (!v.empty() && isOws(v.back())) v.remove_suffix(1);
  currentMap().addView(field_, v);
  field_ = value_ = {};
  return 0;
}

int ParserCore::onHeadersComplete() {
  pause_ = Pause::headers;
  return HPE_PAUSED;
}

int ParserCore::onBody(const char* at, size_t n) {
  if (n == 0) return 0;
  bodyBytes_ += n;
  if (bodyBytes_ > limits_.maxBodyBytes) {
    return fail(413, ParseErrorKind::body_size, "body larger than allowed");
  }
  if (head_.chunked) {
    chunkLeft_ -= std::min<uint64_t>(chunkLeft_, n);
    if (chunkLeft_ == 0) {
      crlfNeeded_ = 2;
      const char* after = at + n;
      if (!checkChunkCrlf(after, execEnd_)) {
        return fail(400, ParseErrorKind::framing, "chunk data not followed by CRLF");
      }
    }
  }
  sink_.deliverBody({at, n});
  return 0;
}

int ParserCore::onChunkHeader() {
  llhttp_t* p = LlhttpGlue::ll(*this);
  chunkLeft_ = p->content_length;
  extensionBytes_ = 0;
  if (chunkLeft_ > limits_.maxBodyBytes - std::min(bodyBytes_, limits_.maxBodyBytes)) {
    return fail(413, ParseErrorKind::body_size, "body larger than allowed");
  }
  if (chunkLeft_ == 0) {
    pause_ = Pause::lastChunk;
    return HPE_PAUSED;
  }
  return 0;
}

int ParserCore::onChunkExtensionName(const char* /*at*/, size_t n) {
  extensionBytes_ += n;
  if (extensionBytes_ > limits_.maxChunkExtensionBytes) {
    return fail(400, ParseErrorKind::framing, "chunk extensions too long");
  }
  return 0;
}

int ParserCore::onChunkExtensionValue(const char* at, size_t n) {
  extensionBytes_ += n;
  if (extensionBytes_ > limits_.maxChunkExtensionBytes) {
    return fail(400, ParseErrorKind::framing, "chunk extensions too long");
  }
  if (extensionValueBytes_ == 0 && n > 0) extensionQuoted_ = at[0] == '"';
  extensionValueBytes_ += n;
  // The byte that ended the value, when the span ended on one rather than at the end of
  // the bytes handed to llhttp.
  extensionTerminator_ = at + n < execEnd_ ? at[n] : 0;
  return 0;
}

int ParserCore::onChunkExtensionValueComplete() {
  bool fix = !extensionQuoted_ && extensionTerminator_ == ';' && llhttpNeedsExtensionFix();
  extensionValueBytes_ = 0;
  extensionQuoted_ = false;
  extensionTerminator_ = 0;
  if (fix) {
    pause_ = Pause::extensionFix;
    return HPE_PAUSED;
  }
  return 0;
}

int ParserCore::onMessageComplete() {
  if (inFinish_) {
    // A body read until close, ended by finish(): llhttp_finish cannot be paused.
    inMessage_ = false;
    sink_.deliverComplete(trailers_);
    return 0;
  }
  pause_ = Pause::message;
  return HPE_PAUSED;
}

// ---- checks outside llhttp ----

bool ParserCore::scanLines(const char* p, size_t n) {
  const char* end = p + n;
  // Where the last piece stopped: right after a CR, or at the start of a line.
  if (afterCr_) {
    if (p == end) return true;
    if (*p != '\n') return failScan("CR not followed by LF");
    ++p;
    afterCr_ = false;
    lineStart_ = true;
  }
  if (lineStart_) {
    if (p == end) return true;
    if (*p == ' ' || *p == '\t') return failScan("obsolete line folding");
    lineStart_ = false;
  }
  // A line at a time: its end, which must be CRLF, then the next line's first byte.
  while (true) {
    const char* eol = findCrOrLf(p, end);
    if (eol == end) return true;
    if (*eol == '\n') return failScan("LF without CR");
    if (eol + 1 == end) {
      afterCr_ = true;
      return true;
    }
    if (eol[1] != '\n') return failScan("CR not followed by LF");
    p = eol + 2;
    if (p == end) {
      lineStart_ = true;
      return true;
    }
    if (*p == ' ' || *p == '\t') return failScan("obsolete line folding");
  }
}

bool ParserCore::failScan(std::string_view why) {
  fail(400, ParseErrorKind::malformed, why);
  return false;
}

bool ParserCore::checkChunkCrlf(const char*& p, const char* end) {
  while (crlfNeeded_ > 0 && p < end) {
    if (*p != (crlfNeeded_ == 2 ? '\r' : '\n')) return false;
    ++p;
    --crlfNeeded_;
  }
  return true;
}

bool ParserCore::checkTransferEncoding() {
  size_t chunked = 0, others = 0;
  bool lastIsChunked = false;
  head_.headers.forEach("transfer-encoding", [&](std::string_view v) {
    while (!v.empty()) {
      size_t comma = v.find(',');
      std::string_view coding = trimOws(v.substr(0, comma));
      if (!coding.empty()) {
        lastIsChunked = equalsIgnoreCase(coding, "chunked");
        (lastIsChunked ? chunked : others)++;
      }
      v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    }
  });
  if (chunked == 1 && others == 0) return true;
  if (chunked + others == 0) {
    fail(400, ParseErrorKind::framing, "empty Transfer-Encoding");
  } else if (chunked > 1 || (chunked == 1 && !lastIsChunked)) {
    fail(400, ParseErrorKind::framing, "chunked must be the final transfer coding, once");
  } else {
    fail(501, ParseErrorKind::transfer_encoding, "unsupported transfer coding");
  }
  return false;
}

bool ParserCore::checkHead() {
  llhttp_t* p = LlhttpGlue::ll(*this);
  if (sectionBytes_ > limits_.maxHeaderBytes) {
    fail(431, ParseErrorKind::header_bytes, "header section too large");
    return false;
  }
  head_.version = {p->http_major, p->http_minor};
  if (p->http_major != 1 || p->http_minor > 1) {
    fail(505, ParseErrorKind::version, "HTTP version not supported");
    return false;
  }
  head_.chunked = (p->flags & F_CHUNKED) != 0;
  if (p->flags & F_CONTENT_LENGTH) head_.contentLength = p->content_length;
  bool hasBody = true;
  if (request_) {
    size_t hosts = head_.headers.count("host");
    if (hosts > 1 || (hosts == 0 && p->http_minor == 1)) {
      fail(400, ParseErrorKind::malformed, hosts ? "repeated Host header" : "missing Host header");
      return false;
    }
    if ((p->flags & F_TRANSFER_ENCODING) || head_.headers.has("transfer-encoding")) {
      if (p->http_minor == 0) {
        fail(400, ParseErrorKind::framing, "Transfer-Encoding in an HTTP/1.0 request");
        return false;
      }
      if (!checkTransferEncoding()) return false;
    }
  } else {
    int status = p->status_code;
    if (status < 100) {
      fail(502, ParseErrorKind::malformed, "invalid status code");
      return false;
    }
    Method asked =
        nextMethod_ < pendingMethods_.size() ? pendingMethods_[nextMethod_] : Method::get;
    bool tunnel = status == 101 || (asked == Method::connect && status >= 200 && status < 300);
    hasBody = !(tunnel || asked == Method::head || status < 200 || status == 204 ||
                status == 304);
    // What returning 1 or 2 from on_headers_complete would do; we return HPE_PAUSED instead.
    if (!hasBody) p->flags |= F_SKIPBODY;
    p->upgrade = tunnel ? 1 : 0;
  }
  if (hasBody && head_.contentLength && *head_.contentLength > limits_.maxBodyBytes) {
    fail(413, ParseErrorKind::body_size, "body larger than allowed");
    return false;
  }
  head_.upgrade = p->upgrade != 0;
  head_.keepAlive = llhttp_should_keep_alive(p) != 0;
  return true;
}

void ParserCore::llhttpError(int err, const char* reason) {
  ParseErrorKind kind = ParseErrorKind::malformed;
  int status = 400;
  switch (err) {
    case HPE_INVALID_CONTENT_LENGTH:
    case HPE_UNEXPECTED_CONTENT_LENGTH:
    case HPE_INVALID_CHUNK_SIZE:
    case HPE_INVALID_TRANSFER_ENCODING:
      kind = ParseErrorKind::framing;
      break;
    case HPE_INVALID_EOF_STATE:
      kind = ParseErrorKind::truncated;
      reason = "connection closed in the middle of a message";
      break;
    case HPE_PAUSED_H2_UPGRADE:
      kind = ParseErrorKind::version;
      status = 505;
      reason = "HTTP/2 connection preface";
      break;
    case HPE_STRICT:
      if (reason && std::strstr(reason, "chunk")) kind = ParseErrorKind::framing;
      break;
    default:
      break;
  }
  fail(status, kind, reason && *reason ? reason : "malformed message");
}

// ---- driving ----

ParseResult ParserCore::feed(const char* data, size_t len) {
  static const char kNothing[1] = {0};
  if (data == nullptr) {  // llhttp computes data + len, undefined in C for a null pointer
    data = kNothing;
    len = 0;
  }
  if (terminal_ != ParseStatus::more) return {terminal_, 0};
  input_ = {data, len};
  llhttp_t* p = LlhttpGlue::ll(*this);
  size_t off = 0;
  while (off < len || pending_) {
    pending_ = false;
    const char* begin = data + off;
    size_t n = len - off;
    bool section = phase_ != Phase::body;
    // Never hand llhttp more of a head than one byte past the limit.
    if (section) {
      size_t room = limits_.maxHeaderBytes - sectionBytes_;  // sectionBytes_ <= max here
      if (room < n) n = room + 1;
    }
    if (crlfNeeded_ > 0) {
      const char* q = begin;
      if (!checkChunkCrlf(q, begin + n)) {
        return failNow(off, 400, ParseErrorKind::framing, "chunk data not followed by CRLF");
      }
    }
    execBegin_ = begin;
    execEnd_ = begin + n;
    pause_ = Pause::none;
    llhttp_errno_t err = llhttp_execute(p, begin, n);
    bool paused = err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE;
    size_t used = paused ? static_cast<size_t>(llhttp_get_error_pos(p) - begin) : n;
    if (section && (err == HPE_OK || paused)) {
      if (!scanLines(begin, used)) return stop(ParseStatus::error, off + used);
      sectionBytes_ += used;
    }
    off += used;

    if (err == HPE_OK) {
      if (section && sectionBytes_ > limits_.maxHeaderBytes) {
        return failNow(off, 431, ParseErrorKind::header_bytes,
                       phase_ == Phase::trailers ? "trailer section too large"
                                                 : "header section too large");
      }
      continue;
    }
    if (err == HPE_PAUSED_UPGRADE) return stop(ParseStatus::upgrade, off);
    if (err != HPE_PAUSED) {
      // A callback of ours that refused set error_ already (llhttp then reports HPE_USER,
      // or HPE_CB_* for callbacks without data); otherwise llhttp found the fault.
      if (error_.status == 0) llhttpError(err, llhttp_get_error_reason(p));
      return stop(ParseStatus::error, off);
    }

    llhttp_resume(p);
    switch (pause_) {
      case Pause::headers:
        if (!checkHead()) return stop(ParseStatus::error, off);
        phase_ = Phase::body;
        sectionBytes_ = 0;
        pending_ = true;  // a message without body ends with no more input
        if (sink_.deliverHead() == Flow::pause) return stop(ParseStatus::paused, off);
        break;
      case Pause::lastChunk:
        phase_ = Phase::trailers;
        afterCr_ = false;
        lineStart_ = true;
        sectionBytes_ = 0;
        sectionLines_ = 0;
        break;
      case Pause::extensionFix: {
        static const char kSemicolon[] = ";";
        execBegin_ = kSemicolon;
        execEnd_ = kSemicolon + 1;
        err = llhttp_execute(p, kSemicolon, 1);
        if (err != HPE_OK) {
          if (error_.status == 0) llhttpError(err, llhttp_get_error_reason(p));
          return stop(ParseStatus::error, off);
        }
        break;
      }
      case Pause::message: {
        if (phase_ == Phase::trailers && sectionBytes_ > limits_.maxHeaderBytes) {
          return failNow(off, 431, ParseErrorKind::header_bytes, "trailer section too large");
        }
        bool keepAlive = llhttp_should_keep_alive(p) != 0;
        bool upgrade = p->upgrade != 0;
        if (!request_ && p->status_code >= 200 && nextMethod_ < pendingMethods_.size()) {
          if (++nextMethod_ == pendingMethods_.size()) {
            pendingMethods_.clear();
            nextMethod_ = 0;
          }
        }
        inMessage_ = false;
        phase_ = Phase::head;
        sectionBytes_ = 0;
        afterCr_ = false;
        lineStart_ = true;
        pending_ = true;  // llhttp's own end-of-message bookkeeping
        Flow flow = sink_.deliverComplete(trailers_);
        if (upgrade) {
          // Let llhttp reach its own upgrade pause, so resumeAfterUpgrade() can undo it.
          llhttp_execute(p, data + off, 0);
          pending_ = false;
          return stop(ParseStatus::upgrade, off);
        }
        if (!keepAlive) return stop(ParseStatus::closed, off);
        if (flow == Flow::pause) return stop(ParseStatus::paused, off);
        break;
      }
      case Pause::none:
        return failNow(off, 400, ParseErrorKind::malformed, "unexpected parser pause");
    }
  }
  if (inMessage_) stabilize();
  return {ParseStatus::more, len};
}

ParseResult ParserCore::finish() {
  // Work llhttp still has from the last feed() (a head the handler paused at, say).
  while (pending_ && terminal_ == ParseStatus::more) feed(nullptr, 0);
  if (terminal_ != ParseStatus::more) return {terminal_, 0};
  llhttp_t* p = LlhttpGlue::ll(*this);
  inFinish_ = true;
  llhttp_errno_t err = llhttp_finish(p);
  inFinish_ = false;
  if (err != HPE_OK) {
    llhttpError(err, llhttp_get_error_reason(p));
    return stop(ParseStatus::error, 0);
  }
  if (inMessage_) {
    // llhttp saw nothing unsafe, but a message had begun and did not end.
    fail(400, ParseErrorKind::truncated, "connection closed in the middle of a message");
    return stop(ParseStatus::error, 0);
  }
  terminal_ = ParseStatus::closed;
  return {ParseStatus::closed, 0};
}

void ParserCore::resumeAfterUpgrade() {
  if (terminal_ != ParseStatus::upgrade) return;
  llhttp_t* p = LlhttpGlue::ll(*this);
  if (llhttp_get_errno(p) == HPE_PAUSED_UPGRADE) llhttp_resume_after_upgrade(p);
  terminal_ = ParseStatus::more;
}

}  // namespace detail

// ---- typed parsers ----

RequestParser::RequestParser(RequestHandler& handler, const ParserLimits& limits)
    : handler_(handler), core_(true, head_, head_.target, *this, limits) {}

Flow RequestParser::deliverHead() {
  uint8_t m = core_.llhttpMethod();
  head_.method = fromLlhttp(m);
  head_.methodName = llhttp_method_name(static_cast<llhttp_method_t>(m));
  return handler_.onHead(head_);
}

ResponseParser::ResponseParser(ResponseHandler& handler, const ParserLimits& limits)
    : handler_(handler), core_(false, head_, head_.reason, *this, limits) {}

Flow ResponseParser::deliverHead() {
  head_.status = core_.statusCode();
  return handler_.onHead(head_);
}

}  // namespace mesh::core::http
