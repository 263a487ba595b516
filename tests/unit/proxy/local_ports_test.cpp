#include <catch2/catch.hpp>

#include "proxy/server/local_ports.h"

namespace model = mesh::core::model;
using mesh::proxy::LocalPorts;

TEST_CASE("local ports: flags") {
  LocalPorts ports;
  REQUIRE(mesh::proxy::parseListenerPort("15001=41000", ports).ok());
  REQUIRE(mesh::proxy::parseListenerPort("8080=127.0.0.1:41001", ports).ok());
  REQUIRE(mesh::proxy::parseAppPort("9080=41002", ports).ok());
  CHECK(ports.listeners.at(15001).address.empty());
  CHECK(ports.listeners.at(15001).port == 41000);
  CHECK(ports.listeners.at(8080).address == "127.0.0.1");
  CHECK(ports.app.at(9080) == 41002);
  for (const char* bad : {"15001", "=1", "15001=", "0=1", "15001=70000", "15001=host:1", "a=1"}) {
    INFO(bad);
    CHECK_FALSE(mesh::proxy::parseListenerPort(bad, ports).ok());
  }
  for (const char* bad : {"9080", "9080=0", "9080=x", "=9080"}) {
    INFO(bad);
    CHECK_FALSE(mesh::proxy::parseAppPort(bad, ports).ok());
  }
}

TEST_CASE("local ports: pilot's capture and gateway listeners and the app's port move") {
  model::Snapshot s;
  model::Listener capture;
  capture.name = "virtualOutbound";
  capture.address = "0.0.0.0";
  capture.port = 15001;
  model::Listener inbound;
  inbound.name = "virtualInbound";
  inbound.direction = model::Listener::Direction::inbound;
  inbound.address = "0.0.0.0";
  inbound.port = 15001;  // same number, but the inbound listener is --sidecar-port's business
  model::Listener gateway;
  gateway.direction = model::Listener::Direction::gateway;
  gateway.port = 8080;
  s.listeners = {capture, inbound, gateway};
  model::Cluster local;
  local.name = "inbound|9080||";
  local.endpoints.push_back({"127.0.0.1", 9080, 1, {}, "", 0});
  model::Cluster remote;
  remote.name = "outbound|9080||reviews.default.svc.cluster.local";
  remote.endpoints.push_back(
      {"127.0.0.1", 9080, 1, {}, "spiffe://cluster.local/ns/default/sa/r", 40000});
  s.clusters = {local, remote};

  LocalPorts ports;
  REQUIRE(mesh::proxy::parseListenerPort("15001=127.0.0.1:41000", ports).ok());
  REQUIRE(mesh::proxy::parseListenerPort("8080=41001", ports).ok());
  REQUIRE(mesh::proxy::parseAppPort("9080=41002", ports).ok());
  REQUIRE(mesh::proxy::parseInboundAddress("127.0.0.1", ports).ok());
  CHECK_FALSE(mesh::proxy::parseInboundAddress("localhost", ports).ok());
  mesh::proxy::localize(s, ports);

  CHECK(s.listeners[0].address == "127.0.0.1");
  CHECK(s.listeners[0].port == 41000);
  CHECK(s.listeners[1].port == 15001);
  CHECK(s.listeners[1].address == "127.0.0.1");
  CHECK(s.listeners[2].port == 41001);
  CHECK(s.clusters[0].endpoints[0].port == 41002);
  CHECK(s.clusters[1].endpoints[0].port == 9080);  // other workloads keep their ports
}
