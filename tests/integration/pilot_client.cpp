// pilot_client: the proxy side of the pilot protocol, small enough to read in one go, for the
// integration tests (the real sidecar is `mesh proxy`). It gets a certificate from the CA
// with a bootstrap token, connects to pilot over mutual TLS through a Channel (so it
// reconnects with backoff like a proxy), says hello, and answers every snapshot or delta:
// ACK when the config parses and checks (core/model), NACK with the reason otherwise, and
// NACK on purpose when a cluster name contains --nack-cluster. It prints one JSON line per
// event on stdout for the test to read:
//
//   {"event":"snapshot","version":"...","clusters":[...],"routes":{"vhost":["cluster",...]}}
//   {"event":"nack","version":"...","reason":"..."}
//   {"event":"connected"} / {"event":"disconnected","reason":"..."} / {"event":"error",...}
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/identity/ca_client.h"
#include "core/loop/loop.h"
#include "core/loop/signals.h"
#include "core/loop/timer.h"
#include "core/model/delta.h"
#include "core/model/snapshot.h"
#include "core/proto/channel.h"
#include "core/tls/context.h"
#include "core/tls/tls_stream.h"

using namespace mesh;
using core::Status;
using nlohmann::json;

namespace {

struct Args {
  std::string ca, caRoot, token, pilot, node = "client.default", address;
  std::string nackCluster;
  std::string claimNamespace;  // say another namespace in hello than the certificate's
  std::vector<std::uint32_t> ports;
  std::map<std::string, std::string> labels;
  bool delta = false;
  bool serving = false;  // say "serving" in the first hello too, as a proxy that runs a config
  std::uint32_t sidecarPort = 0;
  long pingMs = 15000;
  // Load generation (bench/pilot): this many connections, nodes "<node>-<i>"; configs are
  // not parsed into the model, only acknowledged, and each answer is one line with the time.
  int connections = 1;
  bool bench = false;
};

long long wallMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}

void emit(const json& event) {
  std::printf("%s\n", event.dump().c_str());
  std::fflush(stdout);
}

core::SocketAddress address(const std::string& text) {
  auto a = core::SocketAddress::parseHostPort(text);
  if (!a) {
    std::fprintf(stderr, "bad address %s\n", text.c_str());
    std::exit(2);
  }
  return *a;
}

class Client final : public core::Channel::Listener {
 public:
  Client(core::Loop& loop, const Args& args, std::shared_ptr<core::TlsContext> tls, std::string node)
      : node_(std::move(node)), args_(args), tls_(std::move(tls)) {
    core::Channel::Options options;
    options.pingInterval = std::chrono::milliseconds(args.pingMs);
    channel_ = std::make_unique<core::Channel>(loop, connector(loop), *this, options);
  }
  void start() { channel_->start(); }

 private:
  core::Channel::Connector connector(core::Loop& loop) {
    return [this, &loop](core::Channel::ConnectDone done) {
      auto holder = std::make_shared<std::unique_ptr<core::TlsStream>>();
      auto stream = core::TlsStream::connect(loop, address(args_.pilot), *tls_, {},
                                             [holder, done, &loop](Status s) {
                                               if (!s.ok()) {
                                                 core::deferredDelete(loop, std::move(*holder));
                                                 return done(s);
                                               }
                                               done(std::unique_ptr<core::Stream>(std::move(*holder)));
                                             });
      if (!stream) return done(stream.status());
      *holder = std::move(*stream);
    };
  }

  void onConnected(core::Channel& channel) override {
    if (!args_.bench) emit({{"event", "connected"}});
    json hello = {{"type", "hello"}, {"node", node_}, {"namespace", ns_},
                  {"service_account", sa_}, {"labels", args_.labels}, {"address", args_.address},
                  {"ports", args_.ports}, {"delta", args_.delta}};
    if (args_.sidecarPort) hello["sidecar_port"] = args_.sidecarPort;
    // Like the proxy: once it runs a config, a reconnection says so.
    if (args_.serving || current_) hello["serving"] = true;
    (void)channel.send(hello);
  }

  void onMessage(core::Channel& channel, json&& message) override {
    std::string type = message.value("type", "");
    if (type != "snapshot" && type != "delta") {
      emit({{"event", "message"}, {"message", message}});
      return;
    }
    std::string version = message.value("version", "");
    if (args_.bench) {
      (void)channel.send({{"type", "ack"}, {"version", version}});
      std::printf("{\"event\":\"%s\",\"node\":\"%s\",\"t\":%lld}\n", type.c_str(), node_.c_str(),
                  wallMillis());
      return;
    }
    core::Result<core::model::Snapshot> next =
        type == "snapshot" ? core::model::parseSnapshot(message["config"])
        : current_ ? core::model::applyDelta(*current_, message["config"])
                   : core::Result<core::model::Snapshot>(core::error(core::Code::invalid, "delta without a base"));
    std::string reason = next ? refusal(*next) : next.status().message();
    if (!reason.empty()) {
      emit({{"event", "nack"}, {"type", type}, {"version", version}, {"reason", reason}});
      (void)channel.send({{"type", "nack"}, {"version", version}, {"reason", reason}});
      return;
    }
    current_ = std::move(*next);
    emit(describe(type, version, *current_, message.dump().size()));
    (void)channel.send({{"type", "ack"}, {"version", version}});
  }

  void onDisconnected(core::Channel&, const Status& why) override {
    if (args_.bench) std::fflush(stdout);
    emit({{"event", "disconnected"}, {"reason", why.toString()}});
  }

  std::string refusal(const core::model::Snapshot& s) const {
    if (args_.nackCluster.empty()) return "";
    for (const auto& c : s.clusters) {
      if (c.name.find(args_.nackCluster) != std::string::npos) return "cluster " + c.name + " refused by test";
    }
    return "";
  }

  static json describe(const std::string& type, const std::string& version,
                       const core::model::Snapshot& s, std::size_t bytes) {
    json clusters = json::array(), routes = json::object(), listeners = json::array();
    for (const auto& c : s.clusters) clusters.push_back(c.name);
    for (const auto& l : s.listeners) listeners.push_back(l.name);
    for (const auto& t : s.routeTables) {
      for (const auto& vh : t.virtualHosts) {
        json targets = json::array();
        for (const auto& r : vh.routes) {
          for (const auto& w : r.route) targets.push_back(w.cluster);
          if (r.directResponse) targets.push_back("direct:" + std::to_string(r.directResponse->status));
        }
        routes[vh.name] = targets;
      }
    }
    json inbound = json::array();
    for (const auto& l : s.listeners) {
      for (const auto& p : l.inboundPorts) {
        inbound.push_back({{"port", p.port}, {"mtls", p.mtls == core::model::MtlsMode::strict ? "STRICT"
                                                     : p.mtls == core::model::MtlsMode::disable ? "DISABLE"
                                                                                                 : "PERMISSIVE"}});
      }
    }
    json endpoints = json::object();
    for (const auto& c : s.clusters) {
      json list = json::array();
      for (const auto& e : c.endpoints) list.push_back(e.address + ":" + std::to_string(e.port));
      endpoints[c.name] = list;
    }
    return {{"event", type}, {"version", version}, {"bytes", bytes}, {"clusters", clusters},
            {"listeners", listeners}, {"routes", routes}, {"inbound", inbound},
            {"endpoints", endpoints}, {"authorizationPolicies", s.authorizationPolicies.size()}};
  }

 public:
  std::string ns_, sa_;

 private:
  std::string node_;
  const Args& args_;
  std::shared_ptr<core::TlsContext> tls_;
  std::unique_ptr<core::Channel> channel_;
  std::optional<core::model::Snapshot> current_;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--ca") a.ca = v;
    else if (k == "--ca-root") a.caRoot = v;
    else if (k == "--token") a.token = v;
    else if (k == "--pilot") a.pilot = v;
    else if (k == "--node") a.node = v;
    else if (k == "--address") a.address = v;
    else if (k == "--nack-cluster") a.nackCluster = v;
    else if (k == "--claim-namespace") a.claimNamespace = v;
    else if (k == "--delta") a.delta = v == "1";
    else if (k == "--serving") a.serving = v == "1";
    else if (k == "--sidecar-port") a.sidecarPort = static_cast<std::uint32_t>(std::stoul(v));
    else if (k == "--ping-ms") a.pingMs = std::stol(v);
    else if (k == "--connections") a.connections = std::stoi(v);
    else if (k == "--bench") a.bench = v == "1";
    else if (k == "--port") a.ports.push_back(static_cast<std::uint32_t>(std::stoul(v)));
    else if (k == "--label") a.labels[v.substr(0, v.find('='))] = v.substr(v.find('=') + 1);
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      std::exit(2);
    }
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a write to a connection pilot closed is an error, not death
  Args args = parse(argc, argv);
  auto roots = core::loadCertificatesFile(args.caRoot);
  auto id = core::peekTokenIdentity(args.token);
  if (!roots || !id) {
    std::fprintf(stderr, "bad --ca-root or --token\n");
    return 2;
  }
  auto issued = core::requestCertificateBlocking(
      core::CsrRequest{.ca = address(args.ca), .caRoots = *roots, .id = *id, .token = args.token});
  if (!issued) {
    emit({{"event", "error"}, {"reason", issued.status().toString()}});
    return 1;
  }
  core::TlsOptions options;
  options.role = core::TlsRole::client;
  options.chain = issued->chain;
  options.key = issued->key;
  options.trustBundle = issued->trustBundle;
  options.peer.trustDomain = id->trustDomain();
  auto tls = core::TlsContext::create(std::move(options));
  if (!tls) {
    emit({{"event", "error"}, {"reason", tls.status().toString()}});
    return 1;
  }
  core::Loop loop;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < args.connections; ++i) {
    std::string node = args.connections == 1 ? args.node : args.node + "-" + std::to_string(i);
    auto client = std::make_unique<Client>(loop, args, *tls, node);
    client->ns_ = args.claimNamespace.empty() ? id->ns() : args.claimNamespace;
    client->sa_ = id->serviceAccount();
    client->start();
    clients.push_back(std::move(client));
  }
  core::Signal sigterm(loop);
  (void)sigterm.start(SIGTERM, [&](int) { loop.stop(); });
  // Bench output is line-buffered by hand: one flush per loop turn, not per line.
  core::Timer flush(loop);
  if (args.bench) flush.startRepeating(std::chrono::milliseconds(5), [] { std::fflush(stdout); });
  loop.run();
  std::fflush(stdout);
  clients.clear();
  return 0;
}
