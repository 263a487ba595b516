#include "proxy/telemetry/trace_context.h"

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

// "00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>"
std::optional<IncomingContext> fromTraceparent(std::string_view v) {
  if (v.size() < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') return std::nullopt;
  if (v.substr(0, 2) == "ff" || !parseHex64(v.substr(0, 2))) return std::nullopt;
  if (v.substr(0, 2) == "00" && v.size() != 55) return std::nullopt;
  IncomingContext c;
  if (!parseTraceId(v.substr(3, 32), c.traceHigh, c.traceLow, c.wide)) return std::nullopt;
  auto span = v.substr(36, 16);
  auto id = span.size() == 16 ? parseHex64(span) : std::nullopt;
  auto flags = parseHex64(v.substr(53, 2));
  if (!id || *id == 0 || !flags) return std::nullopt;
  c.spanId = *id;
  c.sampled = (*flags & 1) != 0;
  return c;
}

std::optional<IncomingContext> fromB3(const core::http::HeaderMap& h) {
  auto trace = h.get("x-b3-traceid");
  auto span = h.get("x-b3-spanid");
  if (!trace || !span) return std::nullopt;
  IncomingContext c;
  if (!parseTraceId(*trace, c.traceHigh, c.traceLow, c.wide)) return std::nullopt;
  auto id = span->size() == 16 ? parseHex64(*span) : std::nullopt;
  if (!id || *id == 0) return std::nullopt;
  c.spanId = *id;
  if (auto flags = h.get("x-b3-flags"); flags && *flags == "1") c.sampled = true;  // debug
  if (auto s = h.get("x-b3-sampled")) {
    if (*s == "1" || *s == "true") c.sampled = true;
    if (*s == "0" || *s == "false") c.sampled = false;
  }
  return c;
}

uint64_t nonZero(std::mt19937_64& rng) {
  uint64_t v = 0;
  while (v == 0) v = rng();
  return v;
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

std::optional<IncomingContext> extractTraceContext(const core::http::HeaderMap& headers) {
  if (auto tp = headers.get("traceparent")) {
    if (auto c = fromTraceparent(*tp)) {
      // A 64-bit B3 id travels padded in traceparent; B3 keeps it 64-bit for the next hop.
      auto b3 = headers.get("x-b3-traceid");
      if (c->traceHigh == 0 && b3 && b3->size() == 16 && parseHex64(*b3) == c->traceLow) {
        c->wide = false;
      }
      return c;
    }
  }
  return fromB3(headers);
}

TraceContext startSpan(const std::optional<IncomingContext>& incoming, double samplingPercent,
                       std::mt19937_64& rng) {
  TraceContext t;
  if (incoming) {
    t.traceHigh = incoming->traceHigh;
    t.traceLow = incoming->traceLow;
    t.wide = incoming->wide;
    t.parentId = incoming->spanId;
  } else {
    t.traceHigh = rng();
    t.traceLow = nonZero(rng);
  }
  t.spanId = nonZero(rng);
  if (incoming && incoming->sampled) {
    t.sampled = *incoming->sampled;
  } else {
    std::uniform_real_distribution<double> percent(0, 100);
    t.sampled = samplingPercent >= 100 || (samplingPercent > 0 && percent(rng) < samplingPercent);
  }
  return t;
}

void injectTraceContext(core::http::HeaderMap& headers, const TraceContext& t) {
  std::string trace = t.traceIdHex();
  std::string span = TraceContext::hex16(t.spanId);
  // W3C wants 32 digits: a 64-bit id is padded on the left.
  std::string traceparent = "00-";
  if (!t.wide) traceparent.append(16, '0');
  traceparent.append(trace).append("-").append(span).append(t.sampled ? "-01" : "-00");
  headers.set("traceparent", traceparent);
  headers.set("x-b3-traceid", trace);
  headers.set("x-b3-spanid", span);
  if (t.parentId) {
    headers.set("x-b3-parentspanid", TraceContext::hex16(t.parentId));
  } else {
    headers.remove("x-b3-parentspanid");
  }
  headers.set("x-b3-sampled", t.sampled ? "1" : "0");
}

}  // namespace mesh::proxy::telemetry
