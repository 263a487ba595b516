#include "proxy/telemetry/trace_context.h"

#include <cstring>

namespace mesh::proxy::telemetry {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void appendHex(std::string& out, uint64_t v) {
  for (int shift = 60; shift >= 0; shift -= 4) out += kHex[(v >> shift) & 0xf];
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// 1 to 16 hex digits.
std::optional<uint64_t> parseHex64(std::string_view s) {
  if (s.empty() || s.size() > 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    int d = hexDigit(c);
    if (d < 0) return std::nullopt;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  return v;
}

// 16 or 32 hex digits; all zeros is invalid in both W3C and B3.
bool parseTraceId(std::string_view s, uint64_t& high, uint64_t& low, bool& wide) {
  if (s.size() != 16 && s.size() != 32) return false;
  wide = s.size() == 32;
  auto h = wide ? parseHex64(s.substr(0, 16)) : std::optional<uint64_t>(0);
  auto l = parseHex64(s.substr(wide ? 16 : 0));
  if (!h || !l || (*h == 0 && *l == 0)) return false;
  high = *h;
  low = *l;
  return true;
}

// Indexes into kNames and TraceHeaderLines::at.
enum TraceHeader : size_t { kTraceparent, kTraceId, kSpanId, kParentSpanId, kSampled, kFlags };
constexpr std::string_view kNames[] = {"traceparent",       "x-b3-traceid", "x-b3-spanid",
                                       "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags"};

// "00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>"
bool fromTraceparent(std::string_view v, IncomingContext& c) {
  if (v.size() < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') return false;
  if (v.substr(0, 2) == "ff" || !parseHex64(v.substr(0, 2))) return false;
  if (v.substr(0, 2) == "00" && v.size() != 55) return false;
  if (!parseTraceId(v.substr(3, 32), c.traceHigh, c.traceLow, c.wide)) return false;
  auto id = parseHex64(v.substr(36, 16));
  auto flags = parseHex64(v.substr(53, 2));
  if (!id || *id == 0 || !flags) return false;
  c.spanId = *id;
  c.sampled = (*flags & 1) != 0;
  return true;
}

bool fromB3(std::string_view trace, std::string_view span, IncomingContext& c) {
  if (!parseTraceId(trace, c.traceHigh, c.traceLow, c.wide)) return false;
  auto id = span.size() == 16 ? parseHex64(span) : std::nullopt;
  if (!id || *id == 0) return false;
  c.spanId = *id;
  return true;
}

uint64_t nonZero(std::mt19937_64& rng) {
  uint64_t v = 0;
  while (v == 0) v = rng();
  return v;
}

// Which trace header `name` is, if any: the names differ in length or in one byte, so at
// most one full comparison is made.
std::optional<TraceHeader> traceHeaderOf(std::string_view name) {
  auto is = [&](TraceHeader h) { return core::http::HeaderMap::nameEquals(name, kNames[h]); };
  auto either = [&](TraceHeader a, TraceHeader b, size_t at) -> std::optional<TraceHeader> {
    TraceHeader h = core::http::asciiLower(name[at]) == kNames[a][at] ? a : b;
    if (is(h)) return h;
    return std::nullopt;
  };
  switch (name.size()) {
    case 10: return is(kFlags) ? std::optional(kFlags) : std::nullopt;
    case 11: return either(kTraceparent, kSpanId, 0);
    case 12: return either(kTraceId, kSampled, 5);
    case 17: return is(kParentSpanId) ? std::optional(kParentSpanId) : std::nullopt;
    default: return std::nullopt;
  }
}

}  // namespace

std::string TraceContext::hex16(uint64_t v) {
  std::string out;
  out.reserve(16);
  appendHex(out, v);
  return out;
}

std::string TraceContext::traceIdHex() const {
  std::string out;
  out.reserve(32);
  if (wide) appendHex(out, traceHigh);
  appendHex(out, traceLow);
  return out;
}

IncomingContext extractTraceContext(const core::http::HeaderMap& headers) {
  std::string_view values[std::size(kNames)];
  IncomingContext c;
  bool repeated = false;
  for (size_t line = 0; line < headers.size(); ++line) {
    auto which = traceHeaderOf(headers[line].name);
    if (!which) continue;
    if (c.lines.has(*which)) {
      repeated = true;
    } else {
      c.lines.at[*which] = static_cast<int16_t>(line);
      values[*which] = headers[line].value;
    }
  }
  std::string_view b3Trace = values[kTraceId], b3Span = values[kSpanId];
  std::string_view b3Sampled = values[kSampled];
  bool fromW3c = c.lines.has(kTraceparent) && fromTraceparent(values[kTraceparent], c);
  if (fromW3c) {
    // A 64-bit B3 id travels padded in traceparent; B3 keeps it 64-bit for the next hop.
    if (c.traceHigh == 0 && b3Trace.size() == 16 && parseHex64(b3Trace) == c.traceLow) {
      c.wide = false;
    }
    c.valid = true;
  } else {
    c.sampled.reset();
    c.valid = c.lines.has(kTraceId) && c.lines.has(kSpanId) && fromB3(b3Trace, b3Span, c);
    if (values[kFlags] == "1") c.sampled = true;  // x-b3-flags: debug
    if (b3Sampled == "1" || b3Sampled == "true") c.sampled = true;
    if (b3Sampled == "0" || b3Sampled == "false") c.sampled = false;
  }
  // Lines past what an int16_t holds are not worth the special case.
  if (repeated || headers.size() > 0x7fff) c.lines = TraceHeaderLines::unknown();
  return c;
}

TraceContext startSpan(const IncomingContext& incoming, double samplingPercent,
                       std::mt19937_64& rng) {
  TraceContext t;
  if (incoming.valid) {
    t.traceHigh = incoming.traceHigh;
    t.traceLow = incoming.traceLow;
    t.wide = incoming.wide;
    t.parentId = incoming.spanId;
  } else {
    t.traceHigh = rng();
    t.traceLow = nonZero(rng);
  }
  t.spanId = nonZero(rng);
  if (incoming.sampled) {
    t.sampled = *incoming.sampled;
  } else {
    // rng() / 2^64 * 100 < percent, without a floating-point distribution object.
    t.sampled = samplingPercent >= 100 ||
                (samplingPercent > 0 &&
                 static_cast<double>(rng() >> 11) * (100.0 / 9007199254740992.0) < samplingPercent);
  }
  return t;
}

void injectTraceContext(core::http::HeaderMap& headers, const TraceContext& t,
                        const TraceHeaderLines& lines) {
  // A header whose line is known is overwritten there, one that was not there is appended:
  // neither searches the map. Appending moves no line, so the known indexes stay true.
  auto put = [&](TraceHeader which, std::string_view value) {
    int16_t at = lines.at[which];
    if (at >= 0) {
      headers.setValueAt(static_cast<size_t>(at), value);
    } else if (at == TraceHeaderLines::kAbsent) {
      headers.addView(kNames[which], headers.store(value));  // the name is a literal
    } else {
      headers.set(kNames[which], value);
    }
  };
  // Formatted into stack buffers: this runs on every request.
  auto hex = [](char* out, uint64_t v) {
    for (int i = 15; i >= 0; --i, v >>= 4) out[i] = kHex[v & 0xf];
  };
  // "00-" + 32 + "-" + 16 + "-" + 2; a 64-bit trace id is padded with zeros on the left for
  // W3C, which wants 32 digits.
  char traceparent[55];
  std::memcpy(traceparent, "00-", 3);
  hex(traceparent + 3, t.wide ? t.traceHigh : 0);
  hex(traceparent + 19, t.traceLow);
  traceparent[35] = '-';
  hex(traceparent + 36, t.spanId);
  std::memcpy(traceparent + 52, t.sampled ? "-01" : "-00", 3);
  std::string_view view(traceparent, sizeof traceparent);
  put(kTraceparent, view);
  put(kTraceId, t.wide ? view.substr(3, 32) : view.substr(19, 16));
  put(kSpanId, view.substr(36, 16));
  put(kSampled, t.sampled ? "1" : "0");
  if (t.parentId) {
    char parent[16];
    hex(parent, t.parentId);
    put(kParentSpanId, std::string_view(parent, sizeof parent));
  } else if (lines.has(kParentSpanId)) {
    headers.remove("x-b3-parentspanid");  // last: it moves the lines after it
  }
}

}  // namespace mesh::proxy::telemetry
