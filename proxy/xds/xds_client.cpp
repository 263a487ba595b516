#include "proxy/xds/xds_client.h"

#include "core/base/log.h"
#include "core/tls/tls_stream.h"

namespace mesh::proxy {

using core::Code;
using nlohmann::json;

namespace {

using EndpointsByCluster = std::map<std::string, std::vector<core::model::Endpoint>>;

EndpointsByCluster endpointsOf(const core::model::Snapshot& snapshot) {
  EndpointsByCluster out;
  for (const auto& c : snapshot.clusters) out[c.name] = c.endpoints;
  return out;
}

// Adds to each cluster of `snapshot` the endpoints `running` has for it and it lacks (by
// address and port), or only counts them when `add` is false.
std::size_t keepRunningEndpoints(core::model::Snapshot& snapshot, const EndpointsByCluster& running,
                                 bool add) {
  std::size_t kept = 0;
  for (auto& cluster : snapshot.clusters) {
    auto it = running.find(cluster.name);
    if (it == running.end()) continue;
    std::size_t sent = cluster.endpoints.size();
    for (const auto& old : it->second) {
      bool present = false;
      for (std::size_t i = 0; i < sent; ++i) {
        const auto& e = cluster.endpoints[i];
        present = present || (e.address == old.address && e.port == old.port);
      }
      if (present) continue;
      if (add) cluster.endpoints.push_back(old);
      ++kept;
    }
  }
  return kept;
}

}  // namespace

core::Result<std::unique_ptr<XdsClient>> XdsClient::create(
    core::Loop& loop, XdsOptions options, std::shared_ptr<const TransportSecurity> security,
    Apply apply) {
  auto pilot = core::SocketAddress::parseHostPort(options.pilotAddress);
  if (!pilot.ok())
    return core::error(Code::invalid, "--pilot-address: " + pilot.status().message());
  if (!security)
    return core::error(Code::invalid,
                       "--pilot-address needs a workload certificate (--ca-address)");
  return std::unique_ptr<XdsClient>(
      new XdsClient(loop, std::move(options), *pilot, std::move(security), std::move(apply)));
}

XdsClient::XdsClient(core::Loop& loop, XdsOptions options, core::SocketAddress pilot,
                     std::shared_ptr<const TransportSecurity> security, Apply apply)
    : loop_(loop),
      options_(std::move(options)),
      pilot_(pilot),
      security_(std::move(security)),
      apply_(std::move(apply)),
      graceTimer_(loop) {
  core::Channel::Options channel;
  channel.initialBackoff = options_.initialBackoff;
  channel.maxBackoff = options_.maxBackoff;
  channel.pingInterval = options_.pingInterval;
  channel_ = std::make_unique<core::Channel>(
      loop_, [this](core::Channel::ConnectDone done) { connect(std::move(done)); },
      static_cast<core::Channel::Listener&>(*this), channel);
}

XdsClient::~XdsClient() {
  channel_.reset();
  if (connecting_) {
    connecting_->close();  // no handshake callback may reach us once we are gone
    core::deferredDelete(loop_, std::move(connecting_));
  }
}

void XdsClient::start() { channel_->start(); }

json XdsClient::hello() const {
  json hello = {{"type", "hello"},           {"node", options_.node},
                {"namespace", options_.ns},  {"service_account", options_.serviceAccount},
                {"labels", options_.labels}, {"address", options_.address},
                {"ports", options_.ports}};
  // Pilot hands this port to other proxies as our endpoints' sidecarPort.
  if (options_.sidecarPort) hello["sidecar_port"] = options_.sidecarPort;
  // Already serving: pilot registers our endpoint now and holds our first snapshot through
  // its warm-up rather than send one built before the others are back.
  if (!applied_.empty()) hello["serving"] = true;
  if (options_.gateway) {
    hello["gateway"] = true;
    if (!options_.gatewayAddress.empty()) hello["gateway_address"] = options_.gatewayAddress;
  }
  return hello;
}

void XdsClient::connect(core::Channel::ConnectDone done) {
  // The workload's client context: pilot sees our SPIFFE id, and we accept a pilot of our
  // trust domain. Renewals reach it by hot swap.
  auto context = security_->clientContextForControl();
  if (!context) return done(core::error(Code::unavailable, "no workload certificate yet"));
  auto shared = std::make_shared<core::Channel::ConnectDone>(std::move(done));
  core::TlsSessionOptions session;
  session.serverName = "pilot";
  session.alpn = std::vector<std::string>{};  // not HTTP: no mesh ALPN on this channel
  auto stream = core::TlsStream::connect(
      loop_, pilot_, *context, session, [this, shared](core::Status status) {
        auto stream = std::move(connecting_);
        if (!status.ok()) {
          if (stream) core::deferredDelete(loop_, std::move(stream));
          return (*shared)(
              core::error(status.code(), "pilot " + pilot_.toString() + ": " + status.message()));
        }
        (*shared)(std::unique_ptr<core::Stream>(std::move(stream)));
      });
  if (!stream.ok()) return (*shared)(stream.status());
  connecting_ = std::move(*stream);
}

void XdsClient::onConnected(core::Channel& channel) {
  LOG_INFO("xds", "connected to pilot ", pilot_.toString(), " as ", options_.node);
  wasConnected_ = true;
  if (!applied_.empty() && options_.reconnectGrace.count() > 0) {
    loop_.updateTime();
    graceUntil_ = loop_.now() + static_cast<std::uint64_t>(options_.reconnectGrace.count());
  }
  if (core::Status s = channel.send(hello()); !s.ok())
    LOG_WARN("xds", "sending hello: ", s.toString());
}

void XdsClient::onDisconnected(core::Channel&, const core::Status& why) {
  if (wasConnected_) {
    LOG_WARN("xds", "lost pilot (", why.toString(), "); serving on version \"", applied_,
             "\" and reconnecting");
  } else {
    LOG_DEBUG("xds", "pilot ", pilot_.toString(), ": ", why.toString());
  }
  wasConnected_ = false;
}

void XdsClient::onMessage(core::Channel& channel, json&& message) {
  const json& type = message["type"];
  if (type == "snapshot") return onSnapshot(channel, message);
  if (type == "error") {
    LOG_WARN("xds", "pilot reports: ", message.value("code", std::string("?")), ": ",
             message.value("reason", std::string("?")));
    return;
  }
  LOG_DEBUG("xds", "ignoring a ", type.dump(), " message from pilot");
}

void XdsClient::onSnapshot(core::Channel& channel, const json& message) {
  std::string version = message.contains("version") && message["version"].is_string()
                            ? message["version"].get<std::string>()
                            : "";
  core::Status result;
  if (!message.contains("config") || !message["config"].is_object()) {
    result = core::error(Code::invalid, "snapshot without a config object");
  } else {
    auto snapshot = core::model::parseSnapshot(message["config"]);
    if (!snapshot.ok()) {
      result = snapshot.status();
    } else {
      if (!version.empty()) snapshot->version = version;
      result = applySnapshot(std::move(*snapshot));
    }
  }
  json answer = {{"type", result.ok() ? "ack" : "nack"}, {"version", version}};
  if (result.ok()) {
    applied_ = version;
    ++acks_;
  } else {
    ++nacks_;
    answer["reason"] = result.message();
    LOG_WARN("xds", "NACK version \"", version, "\": ", result.message(), "; keeping \"", applied_,
             "\"");
  }
  if (core::Status s = channel.send(answer); !s.ok())
    LOG_WARN("xds", "answering version \"", version, "\": ", s.toString());
  trimmer_.afterWork();
}

core::Status XdsClient::applySnapshot(core::model::Snapshot snapshot) {
  loop_.updateTime();
  if (graceUntil_ && loop_.now() >= graceUntil_) graceUntil_ = 0;
  std::optional<core::model::Snapshot> sent;
  std::size_t kept = 0;
  if (graceUntil_ && keepRunningEndpoints(snapshot, runningEndpoints_, false) > 0) {
    sent = snapshot;  // pilot's version, applied once the grace is over
    kept = keepRunningEndpoints(snapshot, runningEndpoints_, true);
  }
  EndpointsByCluster endpoints = endpointsOf(snapshot);
  if (core::Status s = apply_(std::move(snapshot)); !s.ok()) return s;
  runningEndpoints_ = std::move(endpoints);
  if (kept == 0) {
    asSent_.reset();
    return {};
  }
  LOG_INFO("xds", "version \"", sent->version, "\" lacks ", kept, " endpoint(s) this proxy ",
           "routes to: kept for ", graceUntil_ - loop_.now(), " ms while pilot relearns them");
  asSent_ = std::move(sent);
  graceTimer_.start(std::chrono::milliseconds(graceUntil_ - loop_.now()),
                    [this] { onGraceOver(); });
  return {};
}

void XdsClient::onGraceOver() {
  loop_.updateTime();
  if (graceUntil_ > loop_.now()) {  // a later reconnection extended it
    graceTimer_.start(std::chrono::milliseconds(graceUntil_ - loop_.now()),
                      [this] { onGraceOver(); });
    return;
  }
  graceUntil_ = 0;
  if (!asSent_) return;
  core::model::Snapshot snapshot = std::move(*asSent_);
  asSent_.reset();
  std::string version = snapshot.version;
  EndpointsByCluster endpoints = endpointsOf(snapshot);
  if (core::Status s = apply_(std::move(snapshot)); !s.ok()) {
    LOG_WARN("xds", "applying version \"", version, "\" without the kept endpoints: ",
             s.toString());
    return;
  }
  runningEndpoints_ = std::move(endpoints);
  LOG_INFO("xds", "reconnect grace over: version \"", version, "\" applied as pilot sent it");
}

}  // namespace mesh::proxy
