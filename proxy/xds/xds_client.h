// XdsClient: the proxy's subscription to pilot (docs/protocol.md, "Configuration"). It keeps
// one mTLS channel to pilot open with the workload certificate (core/proto Channel: reconnect
// with jittered backoff, pings), says `hello` on every connection, and for each `snapshot`
// parses it, hands it to the proxy's config-swap path and answers `ack` with the version, or
// `nack` with the reason when the snapshot does not parse or does not apply; the running
// config then stays as it was. While pilot is away nothing changes: the proxy serves on.
//
// Reconnecting, the hello says `"serving": true`, so pilot registers our endpoint at once and
// holds our first snapshot through its warm-up (docs/pilot.md). And a proxy never swaps its
// working config for a less complete one: for `reconnectGrace` after a reconnection, a
// snapshot that lacks endpoints the running config has in a cluster it still has keeps them
// (pilot, restarted, learns endpoints only as their proxies come back; a running pilot keeps
// a departed proxy's endpoint for its --endpoint-grace just the same). When the grace ends,
// pilot's latest snapshot is applied exactly as sent.
//
// Lives on the main loop. Owns its Channel and the connection attempt in flight; the
// TransportSecurity is shared.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/status.h"
#include "core/loop/address.h"
#include "core/loop/heap_trimmer.h"
#include "core/loop/loop.h"
#include "core/loop/timer.h"
#include "core/model/snapshot.h"
#include "core/proto/channel.h"
#include "proxy/mtls/transport_security.h"

namespace mesh::core {
class TlsStream;
}

namespace mesh::proxy {

struct XdsOptions {
  std::string pilotAddress;  // host:port
  std::string node;          // unique per proxy; default "<hostname>.<namespace>"
  std::string ns;
  std::string serviceAccount;
  std::map<std::string, std::string> labels;
  std::string address = "127.0.0.1";  // this workload's address, for pilot's registry
  std::vector<uint32_t> ports;        // this workload's ports
  uint32_t sidecarPort = 0;           // our inbound listener's port (explicit mode); 0: none
  bool gateway = false;               // a gateway: pilot sends Gateway listeners, no inbound
  std::string gatewayAddress;         // where gateway listeners bind; empty: pilot's default
  std::chrono::milliseconds initialBackoff{100};
  std::chrono::milliseconds maxBackoff{30'000};
  std::chrono::milliseconds pingInterval{15'000};
  std::chrono::milliseconds reconnectGrace{10'000};  // pilot's default --endpoint-grace
};

class XdsClient final : private core::Channel::Listener {
 public:
  // Applies a snapshot atomically; an error leaves the running config in force and is sent
  // to pilot as the NACK reason.
  using Apply = std::function<core::Status(core::model::Snapshot)>;

  static core::Result<std::unique_ptr<XdsClient>> create(
      core::Loop& loop, XdsOptions options, std::shared_ptr<const TransportSecurity> security,
      Apply apply);
  ~XdsClient();
  XdsClient(const XdsClient&) = delete;
  XdsClient& operator=(const XdsClient&) = delete;

  void start();
  bool connected() const { return channel_->connected(); }
  const std::string& appliedVersion() const { return applied_; }
  int acks() const { return acks_; }
  int nacks() const { return nacks_; }

  nlohmann::json hello() const;

 private:
  XdsClient(core::Loop& loop, XdsOptions options, core::SocketAddress pilot,
            std::shared_ptr<const TransportSecurity> security, Apply apply);
  void connect(core::Channel::ConnectDone done);
  void onConnected(core::Channel& channel) override;
  void onMessage(core::Channel& channel, nlohmann::json&& message) override;
  void onDisconnected(core::Channel& channel, const core::Status& why) override;
  void onSnapshot(core::Channel& channel, const nlohmann::json& message);
  core::Status applySnapshot(core::model::Snapshot snapshot);
  void onGraceOver();

  core::Loop& loop_;
  XdsOptions options_;
  core::SocketAddress pilot_;
  std::shared_ptr<const TransportSecurity> security_;
  Apply apply_;
  std::string applied_;
  int acks_ = 0;
  int nacks_ = 0;
  bool wasConnected_ = false;
  // Endpoints of the running config by cluster, for the reconnect grace.
  std::map<std::string, std::vector<core::model::Endpoint>> runningEndpoints_;
  std::uint64_t graceUntil_ = 0;  // loop ms; 0: no grace
  // Pilot's latest snapshot as it sent it, while the one running also has kept endpoints.
  std::optional<core::model::Snapshot> asSent_;
  core::Timer graceTimer_;
  // A snapshot's JSON, its parsed model and the config it replaces are freed around it.
  core::HeapTrimmer trimmer_{loop_};
  std::unique_ptr<core::TlsStream> connecting_;  // the attempt in flight
  std::unique_ptr<core::Channel> channel_;
};

}  // namespace mesh::proxy
