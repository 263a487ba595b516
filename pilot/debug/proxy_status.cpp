#include "pilot/debug/proxy_status.h"

#include <algorithm>
#include <vector>

#include "core/loop/leak_check.h"
#include "core/loop/loop.h"
#include "core/loop/tcp.h"

namespace mesh::pilot {

namespace {

constexpr std::size_t kMaxResponse = 64u << 20;

class Reader final : public core::StreamSink {
 public:
  void onData(core::ByteView data) override {
    if (text.size() + data.size() > kMaxResponse) {
      failure = core::error(core::Code::too_large, "response too large");
      done = true;
      return;
    }
    text.append(data.data(), data.size());
  }
  void onEof() override { done = true; }
  void onError(const core::Status& status) override {
    failure = status;
    done = true;
  }
  std::string text;
  core::Status failure;
  bool done = false;
};

}  // namespace

core::Result<std::string> httpGet(const core::SocketAddress& address, const std::string& path,
                                  std::chrono::milliseconds timeout) {
  core::Loop loop;
  Reader reader;
  core::Status connectStatus;
  {
    core::TcpStream tcp(loop);
    bool connected = false;
    core::Status s = tcp.connect(address, [&](core::Status st) {
      connectStatus = st;
      connected = true;
      if (!st.ok()) {
        reader.done = true;
        return;
      }
      (void)tcp.write("GET " + path + " HTTP/1.1\r\nHost: pilot\r\nConnection: close\r\n\r\n",
                      [](core::Status) {});
      (void)tcp.startReading(reader);
    });
    if (!s.ok()) return s;
    if (!core::runUntil(loop, [&] { return reader.done; }, timeout)) {
      return core::error(core::Code::timeout, "no answer from " + address.toString());
    }
    (void)connected;
  }
  core::liveHandles(loop);  // let the closed socket finish before the loop goes
  if (!connectStatus.ok()) return connectStatus;
  if (!reader.failure.ok()) return reader.failure;
  auto head = reader.text.find("\r\n\r\n");
  if (head == std::string::npos || reader.text.compare(0, 9, "HTTP/1.1 ") != 0) {
    return core::error(core::Code::invalid, "not an HTTP response from " + address.toString());
  }
  std::string status = reader.text.substr(9, 3);
  if (status != "200") {
    return core::error(core::Code::unavailable,
                       address.toString() + " answered " + status + " for " + path);
  }
  return reader.text.substr(head + 4);
}

std::string formatColumns(const std::vector<std::vector<std::string>>& rows) {
  if (rows.empty()) return "";
  std::vector<std::size_t> widths(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size() && i < widths.size()) {
        out += std::string(widths[i] - row[i].size() + 3, ' ');
      }
    }
    out += '\n';
  }
  return out;
}

std::string formatProxyStatus(const nlohmann::json& syncz) {
  std::vector<std::vector<std::string>> rows{{"NAME", "CLUSTER", "CONFIG", "PILOT", "VERSION"}};
  std::vector<std::string> reasons;
  auto field = [](const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (syncz.is_array()) {
    for (const auto& p : syncz) {
      std::string state = field(p, "state");
      std::string version = state == "NACKED" ? field(p, "acked") : field(p, "sent");
      rows.push_back({field(p, "proxy"), field(p, "cluster_id"), state, field(p, "istiod"),
                      version.empty() ? "-" : version});
      if (state == "NACKED") reasons.push_back(field(p, "proxy") + ": " + field(p, "nack_reason"));
    }
  }
  std::sort(rows.begin() + 1, rows.end());
  std::string out = formatColumns(rows);
  if (!reasons.empty()) {
    out += "\nNACK reasons:\n";
    for (const auto& r : reasons) out += "  " + r + "\n";
  }
  return out;
}

}  // namespace mesh::pilot
