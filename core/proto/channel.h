// Channel: the client end of a control connection (proxy -> pilot, workload -> CA) that stays
// up. It connects through a Connector (TCP, then the TLS handshake), speaks frames through a
// FramedConnection, reconnects with jittered exponential backoff after any loss, and pings the
// server so that a silent peer is noticed and dropped instead of waited on forever.
//
// The Listener hears about each connection (send `hello` from onConnected), each message and
// each loss. The Channel owns its connection; the Listener is borrowed and must outlive it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/loop/loop.h"
#include "core/loop/stream.h"
#include "core/loop/timer.h"
#include "core/proto/backoff.h"
#include "core/proto/connection.h"

namespace mesh::core {

class Channel final : private FramedConnection::Handler {
 public:
  using ConnectDone = std::function<void(Result<std::unique_ptr<Stream>>)>;
  // Starts one connection attempt and calls `done` exactly once, unless the Channel is
  // destroyed first (then `done` may still be called and does nothing).
  using Connector = std::function<void(ConnectDone done)>;

  class Listener {
   public:
    virtual void onConnected(Channel& channel) = 0;
    virtual void onMessage(Channel& channel, nlohmann::json&& message) = 0;
    // Connection lost or an attempt failed; a retry is already scheduled.
    virtual void onDisconnected(Channel& channel, const Status& why) = 0;

   protected:
    ~Listener() = default;
  };

  struct Options {
    std::chrono::milliseconds initialBackoff{100};
    std::chrono::milliseconds maxBackoff{30'000};
    // A ping goes out every interval; three intervals without any frame from the server
    // close the connection.
    std::chrono::milliseconds pingInterval{15'000};
    size_t maxFrameBytes = kDefaultMaxFrameBytes;
  };

  Channel(Loop& loop, Connector connector, Listener& listener, Options options);
  Channel(Loop& loop, Connector connector, Listener& listener)
      : Channel(loop, std::move(connector), listener, Options{}) {}
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Begins connecting. Idempotent.
  void start();
  // Fails with Code::unavailable while disconnected: the caller re-sends its state from
  // onConnected instead of queueing stale messages.
  Status send(const nlohmann::json& message);
  bool connected() const { return connection_ && connection_->isOpen(); }
  // Connections established so far (1 after the first, 2 after one reconnect, ...).
  int connections() const { return connections_; }

 private:
  void connect();
  void onConnectDone(Result<std::unique_ptr<Stream>> result);
  void scheduleRetry(const Status& why);
  void onPingTick();
  void onMessage(FramedConnection& connection, nlohmann::json&& message) override;
  void onClosed(FramedConnection& connection, const Status& why) override;

  Loop& loop_;
  Connector connector_;
  Listener& listener_;
  Options options_;
  Backoff backoff_;
  bool started_ = false;
  bool connecting_ = false;
  int connections_ = 0;
  std::uint64_t framesAtLastTick_ = 0;
  int silentTicks_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  Timer retryTimer_;
  Timer pingTimer_;
  std::unique_ptr<FramedConnection> connection_;
};

}  // namespace mesh::core
