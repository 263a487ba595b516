// `mesh proxy-config`'s tables, drawn from pages recorded from a proxy's admin port.
#include "pilot/debug/proxy_config.h"

#include <algorithm>

#include <catch2/catch.hpp>

using mesh::pilot::AdminHost;
using mesh::pilot::ProxyConfigFilter;
using nlohmann::json;

namespace {

// /config_dump of a sidecar: two clusters of one service (one a subset), an outbound HTTP
// listener, a TCP listener, the inbound listener and a route table.
const json kConfigDump = json::parse(R"({
  "version": "7",
  "clusters": [
    {"name": "outbound|9080||reviews.default.svc.cluster.local",
     "service": "reviews.default.svc.cluster.local", "port": 9080, "subset": "",
     "loadBalancer": {"policy": "ROUND_ROBIN"},
     "endpoints": [{"address": "10.0.0.1", "port": 9080}]},
    {"name": "outbound|9080|v2|reviews.default.svc.cluster.local",
     "service": "reviews.default.svc.cluster.local", "port": 9080, "subset": "v2",
     "loadBalancer": {"policy": "LEAST_REQUEST"}, "destinationRule": "reviews.default",
     "endpoints": [{"address": "10.0.0.2", "port": 9080}]},
    {"name": "outbound|443||api.example.com", "service": "api.example.com", "port": 443,
     "loadBalancer": {"policy": "ROUND_ROBIN"},
     "endpoints": [{"address": "api.example.com", "port": 443}]},
    {"name": "inbound|9080||", "service": "", "port": 9080,
     "loadBalancer": {"policy": "ROUND_ROBIN"},
     "endpoints": [{"address": "127.0.0.1", "port": 9080}]},
    {"name": "passthrough", "loadBalancer": {"policy": "PASSTHROUGH"}, "endpoints": []}
  ],
  "listeners": [
    {"name": "virtualOutbound", "address": "127.0.0.1", "port": 15001, "direction": "OUTBOUND",
     "protocol": "http", "routeTable": "outbound", "cluster": "", "capture": true,
     "inboundPorts": []},
    {"name": "10.96.0.5_5432", "address": "10.96.0.5", "port": 5432, "direction": "OUTBOUND",
     "protocol": "tcp", "routeTable": "", "cluster": "outbound|443||api.example.com",
     "capture": false, "inboundPorts": []},
    {"name": "virtualInbound", "address": "0.0.0.0", "port": 15006, "direction": "INBOUND",
     "protocol": "http", "routeTable": "", "cluster": "", "capture": false,
     "defaultMtls": "PERMISSIVE",
     "inboundPorts": [{"port": 9080, "protocol": "http", "cluster": "inbound|9080||",
                       "mtls": "STRICT"}]}
  ],
  "routeTables": [
    {"name": "outbound", "virtualHosts": [
      {"name": "reviews.default.svc.cluster.local:9080",
       "domains": ["reviews.default.svc.cluster.local", "reviews", "reviews.default"],
       "routes": [
         {"name": "jason", "virtualService": "reviews.default", "match": [{"uri": null, "headers": {
             "end-user": {"kind": "exact", "value": "jason"}}}],
          "route": [{"cluster": "outbound|9080|v2|reviews.default.svc.cluster.local"}]},
         {"name": "", "match": [{"uri": {"kind": "prefix", "value": "/api/"}},
                                {"uri": {"kind": "exact", "value": "/health"}}],
          "route": [{"cluster": "outbound|9080||reviews.default.svc.cluster.local"}]},
         {"name": "", "match": [],
          "route": [{"cluster": "outbound|9080||reviews.default.svc.cluster.local"}]}]}]},
    {"name": "http.8080", "virtualHosts": [
      {"name": "shop.example.com:8080", "domains": ["shop.example.com"], "routes": [
         {"match": [{"uri": {"kind": "regex", "value": "/item/[0-9]+"}, "method":
                      {"kind": "exact", "value": "GET"}}],
          "route": [{"cluster": "outbound|9080||reviews.default.svc.cluster.local"}]}]}]}
  ]
})");

// /clusters of the same proxy: one host ejected by outlier detection, one IPv6 host.
const char* kAdminClusters =
    "outbound|9080||reviews.default.svc.cluster.local::default_priority::max_connections::1024\n"
    "outbound|9080||reviews.default.svc.cluster.local::10.0.0.1:9080::cx_active::2\n"
    "outbound|9080||reviews.default.svc.cluster.local::10.0.0.1:9080::rq_total::17\n"
    "outbound|9080||reviews.default.svc.cluster.local::10.0.0.1:9080::health_flags::healthy\n"
    "outbound|9080||reviews.default.svc.cluster.local::10.0.0.3:9080::rq_total::5\n"
    "outbound|9080||reviews.default.svc.cluster.local::10.0.0.3:9080::health_flags::"
    "/failed_outlier_check\n"
    "outbound|9080|v2|reviews.default.svc.cluster.local::[fd00::2]:9080::rq_error::1\n"
    "outbound|9080|v2|reviews.default.svc.cluster.local::[fd00::2]:9080::health_flags::"
    "/failed_active_hc\n"
    "garbage line\n";

const json kCerts = json::parse(R"({"certificates": [
  {"name": "default", "type": "Cert Chain", "serialNumber": "4A1F09",
   "spiffeId": "spiffe://cluster.local/ns/default/sa/reviews",
   "notBefore": "2026-11-26T00:00:00Z", "notAfter": "2026-11-27T00:00:00Z"},
  {"name": "ROOTCA", "type": "CA", "serialNumber": "01",
   "notBefore": "2026-01-01T00:00:00Z", "notAfter": "2026-11-26T00:30:00Z"}]})");

}  // namespace

TEST_CASE("proxy-config cluster: istioctl's columns from the snapshot, filters narrow") {
  std::string all = mesh::pilot::formatClusters(kConfigDump, {});
  CHECK(all ==
        "SERVICE FQDN                        PORT   SUBSET   DIRECTION   TYPE           "
        "DESTINATION RULE\n"
        "reviews.default.svc.cluster.local   9080   -        outbound    STATIC         -\n"
        "reviews.default.svc.cluster.local   9080   v2       outbound    STATIC         "
        "reviews.default\n"
        "api.example.com                     443    -        outbound    STRICT_DNS     -\n"
        "-                                   9080   -        inbound     STATIC         -\n"
        "-                                   -      -        -           ORIGINAL_DST   -\n");

  ProxyConfigFilter subset;
  subset.subset = "v2";
  std::string one = mesh::pilot::formatClusters(kConfigDump, subset);
  CHECK(one.find("v2") != std::string::npos);
  CHECK(std::count(one.begin(), one.end(), '\n') == 2);

  ProxyConfigFilter inbound;
  inbound.direction = "INBOUND";
  inbound.port = 9080;
  auto selected = mesh::pilot::selectClusters(kConfigDump, inbound);
  REQUIRE(selected.size() == 1);
  CHECK(selected[0]["name"] == "inbound|9080||");

  ProxyConfigFilter fqdn;
  fqdn.fqdn = "reviews.default.svc.cluster.local";
  CHECK(mesh::pilot::selectClusters(kConfigDump, fqdn).size() == 2);
}

TEST_CASE("proxy-config listener: one row per listener, the inbound one per workload port") {
  std::string all = mesh::pilot::formatListeners(kConfigDump, {});
  CHECK(all.find("ADDRESS     PORT    MATCH") == 0);
  CHECK(all.find("127.0.0.1   15001   ALL (http), captured          Route: outbound\n") !=
        std::string::npos);
  CHECK(all.find("10.96.0.5   5432    ALL (tcp)                     Cluster: "
                 "outbound|443||api.example.com\n") != std::string::npos);
  CHECK(all.find("dst port 9080 (mTLS STRICT)   Cluster: inbound|9080||\n") != std::string::npos);
  CHECK(all.find("ALL (mTLS PERMISSIVE)") != std::string::npos);

  ProxyConfigFilter port;
  port.port = 5432;
  CHECK(mesh::pilot::selectListeners(kConfigDump, port).size() == 1);
  ProxyConfigFilter address;
  address.address = "0.0.0.0";
  auto inbound = mesh::pilot::selectListeners(kConfigDump, address);
  REQUIRE(inbound.size() == 1);
  CHECK(inbound[0]["name"] == "virtualInbound");
}

TEST_CASE("proxy-config route: a row per route with its domains and match") {
  std::string all = mesh::pilot::formatRoutes(kConfigDump, {});
  CHECK(all.find("NAME        VHOST NAME                               DOMAINS") == 0);
  CHECK(all.find("reviews.default.svc.cluster.local +2 more...") != std::string::npos);
  // The route made by a VirtualService names it; the others show "-".
  auto jason = all.find("header end-user=jason");
  REQUIRE(jason != std::string::npos);
  CHECK(all.substr(jason, all.find('\n', jason) - jason).ends_with(" reviews.default"));
  CHECK(all.find("/api/* || /health") != std::string::npos);
  CHECK(all.find("~/item/[0-9]+ && method GET") != std::string::npos);
  CHECK(std::count(all.begin(), all.end(), '\n') == 5);

  ProxyConfigFilter name;
  name.name = "http.8080";
  std::string gateway = mesh::pilot::formatRoutes(kConfigDump, name);
  CHECK(std::count(gateway.begin(), gateway.end(), '\n') == 2);
  CHECK(gateway.find("shop.example.com:8080") != std::string::npos);
  CHECK(gateway.find("reviews") == std::string::npos);
}

TEST_CASE("proxy-config endpoint: hosts from /clusters with health and outlier state") {
  auto hosts = mesh::pilot::parseAdminClusters(kAdminClusters);
  REQUIRE(hosts.size() == 3);
  CHECK(hosts[0].address == "10.0.0.1:9080");
  CHECK(hosts[0].stats["rq_total"] == 17);
  CHECK(hosts[2].address == "[fd00::2]:9080");
  CHECK(hosts[2].cluster == "outbound|9080|v2|reviews.default.svc.cluster.local");

  std::string all = mesh::pilot::formatEndpoints(hosts, {});
  CHECK(all ==
        "ENDPOINT         STATUS      OUTLIER CHECK   CLUSTER\n"
        "10.0.0.1:9080    HEALTHY     OK              "
        "outbound|9080||reviews.default.svc.cluster.local\n"
        "10.0.0.3:9080    HEALTHY     FAILED          "
        "outbound|9080||reviews.default.svc.cluster.local\n"
        "[fd00::2]:9080   UNHEALTHY   OK              "
        "outbound|9080|v2|reviews.default.svc.cluster.local\n");

  ProxyConfigFilter unhealthy;
  unhealthy.status = "unhealthy";
  auto only = mesh::pilot::selectEndpoints(hosts, unhealthy);
  REQUIRE(only.size() == 1);
  CHECK(only[0]["address"] == "[fd00::2]:9080");
  ProxyConfigFilter cluster;
  cluster.cluster = "outbound|9080||reviews.default.svc.cluster.local";
  CHECK(mesh::pilot::selectEndpoints(hosts, cluster).size() == 2);
}

TEST_CASE("proxy-config secret: the workload chain and the roots, validity against now") {
  std::string table = mesh::pilot::formatSecrets(kCerts, "2026-11-26T01:00:00Z");
  CHECK(table ==
        "RESOURCE NAME   TYPE         STATUS   VALID CERT   SERIAL NUMBER   NOT AFTER              "
        "NOT BEFORE\n"
        "default         Cert Chain   ACTIVE   true         4A1F09          2026-11-27T00:00:00Z   "
        "2026-11-26T00:00:00Z\n"
        "ROOTCA          CA           ACTIVE   false        01              2026-11-26T00:30:00Z   "
        "2026-01-01T00:00:00Z\n");
  // A proxy without an identity lists no certificates: the header alone.
  std::string none = mesh::pilot::formatSecrets(json::parse(R"({"certificates": []})"), "x");
  CHECK(std::count(none.begin(), none.end(), '\n') == 1);
}

TEST_CASE("proxy-config: types by name, pages of the wrong shape give empty tables") {
  CHECK(mesh::pilot::parseProxyConfigType("clusters") == mesh::pilot::ProxyConfigType::cluster);
  CHECK(mesh::pilot::parseProxyConfigType("secret") == mesh::pilot::ProxyConfigType::secret);
  CHECK(mesh::pilot::parseProxyConfigType("all") == mesh::pilot::ProxyConfigType::all);
  CHECK_FALSE(mesh::pilot::parseProxyConfigType("cds"));

  for (const json& bad : {json(nullptr), json::array({1, 2}), json("text"),
                          json::parse(R"({"clusters": 3, "listeners": [1, "x", null],
                                          "routeTables": [{"virtualHosts": 7}]})")}) {
    std::string clusters = mesh::pilot::formatClusters(bad, {});
    CHECK(std::count(clusters.begin(), clusters.end(), '\n') == 1);
    CHECK_NOTHROW(mesh::pilot::formatListeners(bad, {}));
    CHECK_NOTHROW(mesh::pilot::formatRoutes(bad, {}));
    CHECK_NOTHROW(mesh::pilot::formatSecrets(bad, "2026-01-01T00:00:00Z"));
  }
  CHECK(mesh::pilot::parseAdminClusters("::\n::::\na::b\n\n").empty());
}

TEST_CASE("proxy-config listener: a PASSTHROUGH listener shows one row per SNI route") {
  const json dump = json::parse(R"({"listeners": [{"name": "0.0.0.0_443", "address": "0.0.0.0",
    "port": 443, "direction": "GATEWAY", "protocol": "tls", "sniRoutes": [
      {"sniHosts": ["web.example.com", "*.shop.example.com"], "cluster": "outbound|443||web"},
      {"sniHosts": ["api.example.com"], "cluster": "outbound|8443||api"}]}]})");
  std::string rows = mesh::pilot::formatListeners(dump, {});
  CHECK(rows.find("SNI: web.example.com,*.shop.example.com   Cluster: outbound|443||web\n") !=
        std::string::npos);
  CHECK(rows.find("SNI: api.example.com") != std::string::npos);
  CHECK(rows.find("Cluster: outbound|8443||api\n") != std::string::npos);
}
