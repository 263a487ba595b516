#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/model/json.h"
#include "proxy/capture/capture_table.h"
#include "proxy/capture/original_dst.h"

using namespace mesh;
using namespace mesh::proxy::capture;
using Kind = CaptureDecision::Kind;

namespace {

core::model::Snapshot snapshot(const char* policy) {
  auto parsed = core::model::parseSnapshot(nlohmann::json::parse(R"({
    "listeners": [
      {"name": "virtualOutbound", "address": "0.0.0.0", "port": 15001, "capture": true,
       "routeTable": "outbound"},
      {"name": "10.96.0.20_3306", "address": "10.96.0.20", "port": 3306, "protocol": "tcp",
       "cluster": "outbound|3306||mysql.default.svc.cluster.local"}],
    "routeTables": [{"name": "outbound", "virtualHosts": [
      {"name": "reviews.default.svc.cluster.local:9080",
       "domains": ["reviews.default.svc.cluster.local:9080", "reviews:9080", "reviews",
                   "10.96.0.10:9080", "10.96.0.10"],
       "routes": [{"route": [{"cluster": "outbound|9080||reviews.default.svc.cluster.local"}]}]}]}],
    "clusters": [{"name": "outbound|9080||reviews.default.svc.cluster.local"},
                 {"name": "outbound|3306||mysql.default.svc.cluster.local", "protocol": "tcp"}]
  })"));
  REQUIRE(parsed.ok());
  parsed->outboundTrafficPolicy = policy;
  return *parsed;
}

core::SocketAddress addr(const char* ip, uint16_t port) { return core::SocketAddress::parse(ip, port).value(); }

}  // namespace

TEST_CASE("the original destination decides, before any byte is read") {
  CaptureTable table;
  table.update(snapshot("ALLOW_ANY"));
  // A declared TCP port: straight to its cluster, so a server that speaks first is heard.
  auto tcp = table.classify(addr("10.96.0.20", 3306));
  CHECK(tcp.kind == Kind::tcp);
  CHECK(tcp.cluster == "outbound|3306||mysql.default.svc.cluster.local");
  CHECK(table.classify(addr("10.96.0.10", 9080)).kind == Kind::http);
  // Same address, another port; another address: not in the registry, passed through.
  CHECK(table.classify(addr("10.96.0.10", 9081)).kind == Kind::passthrough);
  CHECK(table.classify(addr("93.184.216.34", 443)).kind == Kind::passthrough);
  table.update(snapshot("REGISTRY_ONLY"));
  CHECK(table.classify(addr("93.184.216.34", 443)).kind == Kind::refuse);
  CHECK(table.classify(addr("10.96.0.10", 9080)).kind == Kind::http);
  CHECK(std::string(kindName(Kind::passthrough)) == "passthrough");
}

TEST_CASE("a service's virtual IP is not bound; a local address is") {
  core::model::Listener l;
  l.protocol = "tcp";
  l.address = "10.96.0.20";  // no interface here has it
  CHECK(reachedOnlyThroughCapture(l));
  l.address = "127.0.0.1";
  CHECK_FALSE(reachedOnlyThroughCapture(l));
  l.address = "10.96.0.20";
  l.protocol = "http";
  CHECK_FALSE(reachedOnlyThroughCapture(l));
}

TEST_CASE("a connection made straight to the listener has no other original destination") {
  int server = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(server, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(server, 1) == 0);
  socklen_t size = sizeof a;
  ::getsockname(server, reinterpret_cast<sockaddr*>(&a), &size);
  int client = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(::connect(client, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  int accepted = ::accept(server, nullptr, nullptr);
  REQUIRE(accepted >= 0);
  auto local = core::SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&a));
  CHECK_FALSE(redirectedFrom(accepted, local).has_value());
  CHECK_FALSE(redirectedFrom(-1, local).has_value());
  ::close(accepted);
  ::close(client);
  ::close(server);
}
