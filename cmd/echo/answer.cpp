#include "cmd/echo/answer.h"

namespace mesh::cmd::echo {

const std::vector<std::string_view>& propagatedHeaders() {
  static const std::vector<std::string_view> kHeaders = {"x-request-id",
                                                         "traceparent",
                                                         "tracestate",
                                                         "x-b3-traceid",
                                                         "x-b3-spanid",
                                                         "x-b3-parentspanid",
                                                         "x-b3-sampled",
                                                         "x-b3-flags",
                                                         "b3",
                                                         "x-ot-span-context",
                                                         "x-cloud-trace-context",
                                                         "grpc-trace-bin",
                                                         "sw8",
                                                         "x-datadog-trace-id",
                                                         "x-datadog-parent-id",
                                                         "x-datadog-sampling-priority",
                                                         "end-user",
                                                         "user-agent",
                                                         "cookie"};
  return kHeaders;
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits on `sep` outside double quotes.
std::vector<std::string_view> splitOutsideQuotes(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  bool quoted = false;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '"') quoted = !quoted;
    if (s[i] == sep && !quoted) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

// Bytes from elsewhere, made safe to put in JSON (which must be UTF-8) and short.
std::string printable(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, 4096)) {
    auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f) || c == '\n' ? c : '?';
  }
  return out;
}

std::string pathOf(std::string_view target) {
  return std::string(target.substr(0, target.find('?')));
}

}  // namespace

std::string peerIdentity(std::string_view xfcc) {
  if (trim(xfcc).empty()) return {};
  auto elements = splitOutsideQuotes(xfcc, ',');
  for (std::string_view pair : splitOutsideQuotes(elements.back(), ';')) {
    pair = trim(pair);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = trim(pair.substr(0, eq));
    if (key.size() != 3 || (key[0] | 0x20) != 'u' || (key[1] | 0x20) != 'r' ||
        (key[2] | 0x20) != 'i') {
      continue;
    }
    std::string_view value = trim(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return std::string(value);
  }
  return {};
}

bool callFailed(const FetchResult& result) { return !result.ok() || result.status >= 500; }

nlohmann::json answerJson(const Identity& self, const IncomingRequest& request,
                          const std::vector<CallOutcome>& calls) {
  std::string peer = peerIdentity(request.xfcc);
  nlohmann::json answer = {{"service", self.service},
                           {"version", self.version},
                           {"pod", self.pod},
                           {"namespace", self.ns},
                           {"method", request.method},
                           {"host", request.host},
                           {"path", pathOf(request.target)},
                           {"peer", peer.empty() ? nlohmann::json() : nlohmann::json(peer)},
                           {"requestId", request.requestId}};
  nlohmann::json list = nlohmann::json::array();
  for (const CallOutcome& call : calls) {
    nlohmann::json entry = {{"url", call.url}};
    if (!call.result.ok()) {
      entry["error"] = call.result.error;
    } else {
      entry["status"] = call.result.status;
      // Anything that is not a JSON object is shown as text (a proxy's 503 page, say).
      auto parsed = nlohmann::json::parse(call.result.body, nullptr, false);
      if (!parsed.is_discarded() && parsed.is_object()) {
        entry["answer"] = std::move(parsed);
      } else {
        entry["body"] = printable(call.result.body);
      }
    }
    list.push_back(std::move(entry));
  }
  answer["calls"] = std::move(list);
  return answer;
}

namespace {

std::string str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void appendText(std::string& out, const nlohmann::json& answer, int depth) {
  std::string indent(static_cast<size_t>(depth) * 4, ' ');
  out += indent + str(answer, "service") + " " + str(answer, "version") + " (pod " +
         str(answer, "pod") + ") " + str(answer, "method") + " " + str(answer, "host") +
         str(answer, "path") + ", caller " +
         (str(answer, "peer").empty() ? "not authenticated" : str(answer, "peer")) + "\n";
  auto calls = answer.find("calls");
  if (calls == answer.end() || !calls->is_array()) return;
  for (const auto& call : *calls) {
    out += indent + "  -> " + str(call, "url") + ": ";
    if (call.contains("error")) {
      out += "error: " + str(call, "error") + "\n";
      continue;
    }
    out += std::to_string(call.value("status", 0)) + "\n";
    if (auto it = call.find("answer"); it != call.end() && it->is_object()) {
      appendText(out, *it, depth + 1);
    } else {
      std::string body = str(call, "body");
      if (body.size() > 200) body = body.substr(0, 200) + "...";
      while (!body.empty() && body.back() == '\n') body.pop_back();
      out += indent + "     " + body + "\n";
    }
  }
}

}  // namespace

std::string answerText(const nlohmann::json& answer) {
  std::string out;
  appendText(out, answer, 0);
  return out;
}

bool wantsText(std::string_view target) {
  size_t q = target.find('?');
  if (q == std::string_view::npos) return false;
  for (std::string_view param : splitOutsideQuotes(target.substr(q + 1), '&')) {
    if (param == "format=text") return true;
  }
  return false;
}

}  // namespace mesh::cmd::echo
