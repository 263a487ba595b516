#include "proxy/telemetry/zipkin_exporter.h"

#include "core/base/log.h"
#include "core/loop/resolver.h"

namespace mesh::proxy::telemetry {

core::Result<core::SocketAddress> resolveCollector(const std::string& hostPort) {
  if (auto numeric = core::SocketAddress::parseHostPort(hostPort); numeric.ok()) return numeric;
  size_t colon = hostPort.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return core::error(core::Code::invalid, "want host:port, got \"" + hostPort + "\"");
  }
  std::string host = hostPort.substr(0, colon), portText = hostPort.substr(colon + 1);
  if (portText.empty() || portText.size() > 5 ||
      portText.find_first_not_of("0123456789") != std::string::npos || std::stoi(portText) > 65535) {
    return core::error(core::Code::invalid, "bad port in \"" + hostPort + "\"");
  }
  auto addresses = core::resolveBlocking(host, 2000);
  if (!addresses.ok()) return addresses.status();
  if (addresses->empty()) return core::error(core::Code::not_found, host + ": no address");
  return core::SocketAddress::parse(addresses->front(), static_cast<uint16_t>(std::stoi(portText)));
}

// One POST of one batch: connect, write, read the status line, close.
class ZipkinExporter::Post final : private core::StreamSink {
 public:
  Post(ZipkinExporter& owner, size_t spans)
      : owner_(owner), spans_(spans), stream_(owner.loop_), deadline_(owner.loop_) {}

  void start(std::string request) {
    request_ = std::move(request);
    deadline_.start(owner_.deadline_, [this] { finish(false, "no answer in time"); });
    core::Status s = stream_.connect(owner_.collector_, [this](core::Status st) { onConnected(st); });
    if (!s.ok()) {
      // No callback follows an error return: finish on the next turn, not inside start().
      deadline_.start(std::chrono::milliseconds(0), [this, why = s.message()] { finish(false, why); });
    }
  }

 private:
  void onConnected(core::Status st) {
    if (!st.ok()) return finish(false, st.message());
    if (!stream_.startReading(*this).ok()) return finish(false, "read failed");
    core::Status s = stream_.write(std::move(request_), [this](core::Status w) {
      if (!w.ok()) finish(false, w.message());
    });
    if (!s.ok()) finish(false, s.message());
  }

  void onData(core::ByteView data) override {
    head_.append(data.data(), data.size());
    size_t eol = head_.find("\r\n");
    if (eol == std::string::npos) {
      if (head_.size() > 1024) finish(false, "no status line");
      return;
    }
    // "HTTP/1.1 202 Accepted"
    bool ok = head_.size() > 12 && head_.starts_with("HTTP/1.") && head_[9] == '2';
    finish(ok, ok ? "" : "collector answered " + head_.substr(0, eol));
  }
  void onEof() override { finish(false, "closed before answering"); }
  void onError(const core::Status& status) override { finish(false, status.message()); }

  void finish(bool ok, const std::string& why) {
    if (done_) return;
    done_ = true;
    deadline_.stop();
    stream_.close();
    if (!ok) LOG_DEBUG("tracing", "zipkin ", owner_.collector_.toString(), ": ", why);
    owner_.onPostDone(ok, spans_);
  }

  ZipkinExporter& owner_;
  size_t spans_;
  bool done_ = false;
  std::string request_;
  std::string head_;
  core::TcpStream stream_;
  core::Timer deadline_;
};

ZipkinExporter::ZipkinExporter(core::Loop& loop, core::SocketAddress collector,
                               std::shared_ptr<SpanQueue> queue, std::chrono::milliseconds interval,
                               std::chrono::milliseconds deadline)
    : loop_(loop),
      collector_(collector),
      queue_(std::move(queue)),
      interval_(interval),
      deadline_(deadline) {}

ZipkinExporter::~ZipkinExporter() { stop(); }

void ZipkinExporter::start() {
  timer_ = std::make_unique<core::Timer>(loop_);
  timer_->startRepeating(interval_, [this] { flush(); });
}

void ZipkinExporter::stop() {
  timer_.reset();
  if (post_) core::deferredDelete(loop_, std::move(post_));
}

void ZipkinExporter::flush() {
  if (post_) return;  // one at a time; the queue holds (or drops) the rest
  std::vector<std::string> spans = queue_->takeAll();
  if (spans.empty()) return;
  std::string body = "[";
  for (size_t i = 0; i < spans.size(); ++i) {
    if (i) body += ',';
    body += spans[i];
  }
  body += ']';
  std::string request = "POST /api/v2/spans HTTP/1.1\r\nHost: " + collector_.toString() +
                        "\r\nContent-Type: application/json\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  post_ = std::make_unique<Post>(*this, spans.size());
  post_->start(std::move(request));
}

void ZipkinExporter::onPostDone(bool ok, size_t spans) {
  (ok ? queue_->sent : queue_->droppedSendFailed).inc(spans);
  // Called from inside the Post: it goes on the next loop turn.
  if (post_) core::deferredDelete(loop_, std::move(post_));
}

}  // namespace mesh::proxy::telemetry
