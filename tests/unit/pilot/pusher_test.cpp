#include <catch2/catch.hpp>

#include <set>

#include "core/model/delta.h"
#include "core/model/json.h"
#include "core/proto/frame.h"
#include "pilot/debug/debug_pages.h"
#include "pilot/push/pusher.h"
#include "tests/unit/loop/loop_fixture.h"
#include "tests/unit/pilot/pilot_fixture.h"

using namespace mesh;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::string services(int n, int port = 80) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    out += "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s" + std::to_string(i) +
           "\nspec:\n  selector: {app: s" + std::to_string(i) + "}\n  ports: [{port: " +
           std::to_string(port) + ", name: http}]\n";
  }
  return out;
}

// A proxy as the Pusher sees it: frames arrive in `frames`, written at once.
struct FakeProxy {
  std::vector<json> frames;
  bool open = true;
  pilot::Pusher::SendFn send() {
    return [this](std::string frame, std::function<void()> written) {
      if (!open) return false;
      frames.push_back(json::parse(frame.substr(core::kFrameHeaderBytes)));
      written();
      return true;
    };
  }
  const json& last() const { return frames.back(); }
  std::string version() const { return last()["version"]; }
};

struct PushFixture : test::LoopFixture {
  core::metrics::Registry registry;
  pilot::PushMetrics metrics{registry};
  std::unique_ptr<pilot::Pusher> pusher;
  PushFixture() {
    pilot::PusherOptions options;
    options.registryDebounce = 20ms;
    options.endpointGrace = 100ms;
    options.warmup = 150ms;
    pusher = std::make_unique<pilot::Pusher>(loop, metrics, options);
  }
  ~PushFixture() { pusher.reset(); }
  void settle() { core::runUntil(loop, [] { return false; }, 60ms); }
};

pilot::ProxyInfo podInfo(const std::string& node, const std::string& app, const std::string& address) {
  auto p = test::proxyOf("default", {{"app", app}}, {80});
  p.node = node;
  p.address = address;
  return p;
}

}  // namespace

TEST_CASE_METHOD(PushFixture, "a proxy gets a snapshot at once, and one more per change", "[pilot][push]") {
  pusher->setConfig(test::configFrom(services(3)), loop.now());
  settle();
  FakeProxy a;
  auto id = pusher->connect(podInfo("a.default", "s0", ""), false, false, a.send());
  REQUIRE(a.frames.size() == 1);
  CHECK(a.last()["type"] == "snapshot");
  auto parsed = core::model::parseSnapshot(a.last()["config"]);
  REQUIRE(parsed.ok());
  CHECK(parsed->clusters.size() == 4);  // 3 services + the inbound port
  pusher->ack(id, a.version());

  // The same config again: nothing to send.
  pusher->setConfig(test::configFrom(services(3)), loop.now());
  settle();
  CHECK(a.frames.size() == 1);

  pusher->setConfig(test::configFrom(services(4)), loop.now());
  settle();
  REQUIRE(a.frames.size() == 2);
  pusher->ack(id, a.version());
  auto status = pusher->syncStatus();
  REQUIRE(status.size() == 1);
  CHECK(pilot::syncState(status[0]) == "SYNCED");
  CHECK(metrics.convergence.snapshot().count == 1);
  pusher->disconnect(id);
}

TEST_CASE_METHOD(PushFixture, "proxies of one scope share one compilation", "[pilot][push]") {
  pusher->setConfig(test::configFrom(services(5)), loop.now());
  settle();
  std::vector<FakeProxy> proxies(20);
  std::vector<std::uint64_t> ids;
  for (std::size_t i = 0; i < proxies.size(); ++i) {
    ids.push_back(
        pusher->connect(podInfo("p" + std::to_string(i), "s0", ""), false, false,
                        proxies[i].send()));
  }
  CHECK(pusher->distinctScopes() == 1);
  // Same view, same bytes (versions aside).
  auto body = [](json frame) {
    frame["config"].erase("version");
    frame.erase("version");
    return frame.dump();
  };
  CHECK(body(proxies[0].last()) == body(proxies[19].last()));
  for (auto id : ids) pusher->disconnect(id);
}

TEST_CASE_METHOD(PushFixture, "a proxy that has not answered gets only the latest state once it does",
                 "[pilot][push]") {
  pusher->setConfig(test::configFrom(services(1)), loop.now());
  settle();
  FakeProxy a;
  auto id = pusher->connect(podInfo("a.default", "x", ""), false, false, a.send());
  REQUIRE(a.frames.size() == 1);
  // Three changes while the first snapshot is unanswered.
  for (int n = 2; n <= 4; ++n) {
    pusher->setConfig(test::configFrom(services(n)), loop.now());
    settle();
  }
  CHECK(a.frames.size() == 1);
  pusher->ack(id, a.version());
  REQUIRE(a.frames.size() == 2);
  auto parsed = core::model::parseSnapshot(a.last()["config"]);
  REQUIRE(parsed.ok());
  CHECK(parsed->clusters.size() == 5);  // the fourth config, straight away
  pusher->disconnect(id);
}

TEST_CASE_METHOD(PushFixture, "a delta takes an ACKed proxy to exactly the new snapshot", "[pilot][push]") {
  pusher->setConfig(test::configFrom(services(50)), loop.now());
  settle();
  FakeProxy full, delta;
  auto fullId = pusher->connect(podInfo("full", "x", ""), false, false, full.send());
  auto deltaId = pusher->connect(podInfo("delta", "x", ""), true, false, delta.send());
  REQUIRE(delta.last()["type"] == "snapshot");  // the first one is always whole
  auto base = core::model::parseSnapshot(delta.last()["config"]);
  REQUIRE(base.ok());
  pusher->ack(fullId, full.version());
  pusher->ack(deltaId, delta.version());

  // One service changes port, one goes away.
  std::string changed = services(49);
  changed.replace(changed.find("port: 80"), 8, "port: 81");
  pusher->setConfig(test::configFrom(changed), loop.now());
  settle();
  REQUIRE(delta.frames.size() == 2);
  REQUIRE(delta.last()["type"] == "delta");
  CHECK(delta.last()["base"] == base->version);
  CHECK(delta.last().dump().size() * 10 < full.last().dump().size());
  auto applied = core::model::applyDelta(*base, delta.last()["config"]);
  REQUIRE(applied.ok());
  auto expected = core::model::parseSnapshot(full.last()["config"]);
  REQUIRE(expected.ok());
  applied->version = expected->version;
  std::set<std::string> a, b;
  for (const auto& c : applied->clusters) a.insert(json(c).dump());
  for (const auto& c : expected->clusters) b.insert(json(c).dump());
  CHECK(a == b);
  CHECK(json(applied->routeTables).dump() != json(base->routeTables).dump());
  pusher->disconnect(fullId);
  pusher->disconnect(deltaId);
}

TEST_CASE_METHOD(PushFixture, "a NACK is recorded with its reason and the proxy is not pushed again",
                 "[pilot][push]") {
  pusher->setConfig(test::configFrom(services(1)), loop.now());
  settle();
  FakeProxy a;
  auto id = pusher->connect(podInfo("a.default", "x", ""), false, false, a.send());
  pusher->nack(id, a.version(), "clusters[0]: unknown value \"FASTEST\"");
  settle();
  CHECK(a.frames.size() == 1);
  auto status = pusher->syncStatus();
  CHECK(pilot::syncState(status[0]) == "NACKED");
  CHECK(status[0].nackReason == "clusters[0]: unknown value \"FASTEST\"");
  CHECK(status[0].acked.empty());
  CHECK(metrics.rejects.value() == 1);
  // An ack for a version never sent changes nothing.
  pusher->ack(id, "not-a-version");
  CHECK(pilot::syncState(pusher->syncStatus()[0]) == "NACKED");
  pusher->disconnect(id);
}

TEST_CASE_METHOD(PushFixture, "a ready proxy becomes an endpoint, removed a grace period after it leaves",
                 "[pilot][push][registry]") {
  pusher->setConfig(test::configFrom(services(2)), loop.now());
  settle();
  FakeProxy client, server;
  auto clientId = pusher->connect(podInfo("client", "s1", ""), false, false, client.send());
  pusher->ack(clientId, client.version());
  auto serverId = pusher->connect(podInfo("s0-pod", "s0", "10.1.1.1"), false, false, server.send());
  auto endpointsOf = [&](const FakeProxy& p) {
    auto s = core::model::parseSnapshot(p.last()["config"]);
    REQUIRE(s.ok());
    return s->findCluster("outbound|80||s0.default.svc.cluster.local")->endpoints.size();
  };
  CHECK(endpointsOf(client) == 0);
  auto clientStatus = [&] {
    for (const auto& s : pusher->syncStatus())
      if (s.node == "client") return s;
    FAIL("no sync status for the client");
    return pilot::ProxySyncStatus{};
  };
  CHECK_FALSE(clientStatus().pending);
  // Ready = it ACKed its snapshot: then the others learn about it. Until the round that tells
  // them has run, the client is SYNCED on its old config but pending (what `mesh up` waits on).
  pusher->ack(serverId, server.version());
  CHECK(pilot::syncState(clientStatus()) == "SYNCED");
  CHECK(clientStatus().pending);
  runUntil([&] { return client.frames.size() == 2; });
  CHECK(endpointsOf(client) == 1);
  pusher->ack(clientId, client.version());
  CHECK_FALSE(clientStatus().pending);

  pusher->disconnect(serverId);
  settle();
  CHECK(client.frames.size() == 2);  // still there during the grace period
  CHECK(pusher->workloads().leaving("s0-pod"));
  runUntil([&] { return client.frames.size() == 3; });
  CHECK(endpointsOf(client) == 0);
  pusher->disconnect(clientId);
}

TEST_CASE_METHOD(PushFixture,
                 "proxies that come back serving get their first snapshot after the warm-up, with "
                 "the endpoints of all who came back",
                 "[pilot][push][registry]") {
  // A restarted pilot: the client's sidecar is back first, the server's a little later. Sent
  // at once, the client's snapshot would have no endpoint for s0 and its requests would fail
  // until the server's sidecar returned.
  pusher->setConfig(test::configFrom(services(2)), loop.now());
  settle();
  auto endpointsOf = [&](const FakeProxy& p) {
    auto s = core::model::parseSnapshot(p.last()["config"]);
    REQUIRE(s.ok());
    return s->findCluster("outbound|80||s0.default.svc.cluster.local")->endpoints.size();
  };
  auto started = std::chrono::steady_clock::now();
  FakeProxy client, server, fresh, late;
  auto clientId = pusher->connect(podInfo("client", "s1", "10.1.1.2"), false, true, client.send());
  CHECK(pusher->warming());
  CHECK(client.frames.empty());
  core::runUntil(loop, [] { return false; }, 50ms);
  auto serverId = pusher->connect(podInfo("s0-pod", "s0", "10.1.1.1"), false, true, server.send());
  CHECK(server.frames.empty());
  // A proxy without a config has nothing to lose: it is not held.
  auto freshId = pusher->connect(podInfo("fresh", "s1", ""), false, false, fresh.send());
  REQUIRE(fresh.frames.size() == 1);
  pusher->ack(freshId, fresh.version());

  runUntil([&] { return client.frames.size() == 1 && server.frames.size() == 1; });
  // Held for the warm-up, not sent at once. The loop's clock is in whole milliseconds and read
  // once per turn, so by a finer clock its 150 ms timer may end a little early.
  CHECK(std::chrono::steady_clock::now() - started >= 140ms);
  CHECK_FALSE(pusher->warming());
  // Serving proxies are endpoints from their hello on, without waiting for an ACK.
  CHECK(endpointsOf(client) == 1);
  runUntil([&] { return fresh.frames.size() == 2; });
  CHECK(endpointsOf(fresh) == 1);

  // The warm-up happens once: a proxy that reconnects later is answered at once.
  auto lateId = pusher->connect(podInfo("late", "s1", ""), false, true, late.send());
  CHECK(late.frames.size() == 1);
  CHECK(endpointsOf(late) == 1);
  for (auto id : {clientId, serverId, freshId, lateId}) pusher->disconnect(id);
}

TEST_CASE_METHOD(PushFixture, "a serving proxy without an address registers nothing and is held",
                 "[pilot][push][registry]") {
  pusher->setConfig(test::configFrom(services(1)), loop.now());
  settle();
  FakeProxy a;
  auto id = pusher->connect(podInfo("a", "s0", ""), false, true, a.send());
  CHECK(a.frames.empty());
  CHECK(pusher->workloads().list().empty());
  runUntil([&] { return a.frames.size() == 1; });
  pusher->disconnect(id);
}

TEST_CASE_METHOD(PushFixture, "a pilot that has run for a while holds no proxy",
                 "[pilot][push][registry]") {
  pilot::PusherOptions options;
  options.warmupWithin = 50ms;
  pilot::Pusher late(loop, metrics, options);
  late.setConfig(test::configFrom(services(1)), loop.now());
  core::runUntil(loop, [] { return false; }, 100ms);
  // One proxy lost its connection and comes back: the others never left.
  FakeProxy a;
  auto id = late.connect(podInfo("a", "s0", "10.1.1.1"), false, true, a.send());
  CHECK(a.frames.size() == 1);
  CHECK_FALSE(late.warming());
  CHECK(late.workloads().list().size() == 1);
  late.disconnect(id);
}
