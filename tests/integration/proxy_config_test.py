"""`mesh proxy-config TYPE --admin ADDR` against a running `mesh proxy --config`: the tables
of clusters, listeners, routes, endpoints (with an outlier-ejected host) and certificates
(from a real `mesh ca`), `-o json`, the filters, and the errors."""
import json
import os
import re
import socket
import subprocess
import tempfile
import unittest

from ca_test import Ca
from meshtest import main, mesh
from proxy_http_test import Proxy, Upstream, reply
from proxy_mtls_test import Sidecar

SERVICE = "reviews.default.svc.cluster.local"
ALL = "outbound|9080||" + SERVICE
V1 = "outbound|9080|v1|" + SERVICE


def rows(table):
    """The table's lines split on runs of 3+ spaces (cells hold single spaces)."""
    return [re.split(r" {3,}", line.rstrip()) for line in table.splitlines() if line.strip()]


def proxy_config(admin, *args):
    return mesh("proxy-config", *args, "--admin", admin)


class ProxyConfigTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.good = Upstream("good")
        cls.bad = Upstream("bad", lambda h: reply(h, 500, b"broken"))
        snapshot = {
            "version": "pc-1",
            "clusters": [
                {"name": ALL, "service": SERVICE, "port": 9080,
                 "endpoints": [{"address": "127.0.0.1", "port": cls.good.port}]},
                # The subset: one good host, one that fails and gets ejected.
                {"name": V1, "service": SERVICE, "port": 9080, "subset": "v1",
                 "destinationRule": "reviews.default",
                 "outlier": {"consecutive5xxErrors": 2, "baseEjectionTimeMs": 600000,
                             "maxEjectionPercent": 50},
                 "endpoints": [{"address": "127.0.0.1", "port": cls.good.port},
                               {"address": "127.0.0.1", "port": cls.bad.port}]},
            ],
            "routeTables": [{"name": "outbound", "virtualHosts": [
                {"name": SERVICE + ":9080", "domains": [SERVICE, "reviews"], "routes": [
                    {"match": [{"headers": {"end-user": {"kind": "exact", "value": "jason"}}}],
                     "virtualService": "reviews.default",
                     "route": [{"cluster": V1}], "retries": {"attempts": 0}},
                    {"match": [{"uri": {"kind": "prefix", "value": "/api/"}}],
                     "route": [{"cluster": ALL}]},
                    {"route": [{"cluster": ALL}]}]}]}],
            "listeners": [
                {"name": "outbound", "port": 0, "routeTable": "outbound"},
                {"name": "tcp", "address": "127.0.0.1", "port": 0, "protocol": "tcp",
                 "cluster": ALL}],
        }
        cls.proxy = Proxy(snapshot, concurrency=1)
        cls.admin = cls.proxy.addresses["admin"]
        # Fail the bad host twice in a row so outlier detection ejects it.
        for _ in range(8):
            cls.proxy.request(host="reviews", headers={"end-user": "jason"})

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.good.stop()
        cls.bad.stop()

    def table(self, *args):
        res = proxy_config(self.admin, *args)
        self.assertEqual(res.returncode, 0, res.stderr)
        return rows(res.stdout)

    def test_clusters(self):
        t = self.table("cluster")
        self.assertEqual(t[0], ["SERVICE FQDN", "PORT", "SUBSET", "DIRECTION", "TYPE",
                                "DESTINATION RULE"])
        self.assertCountEqual(t[1:], [[SERVICE, "9080", "-", "outbound", "STATIC", "-"],
                                      [SERVICE, "9080", "v1", "outbound", "STATIC",
                                       "reviews.default"]])
        self.assertEqual(self.table("clusters", "--subset", "v1")[1:],
                         [[SERVICE, "9080", "v1", "outbound", "STATIC", "reviews.default"]])
        self.assertEqual(len(self.table("cluster", "--fqdn", SERVICE)), 3)
        self.assertEqual(len(self.table("cluster", "--fqdn", "other.svc")), 1)
        self.assertEqual(len(self.table("cluster", "--port", "80")), 1)
        self.assertEqual(len(self.table("cluster", "--direction", "inbound")), 1)
        out = json.loads(proxy_config(self.admin, "cluster", "-o", "json", "--subset", "v1").stdout)
        self.assertEqual([c["name"] for c in out], [V1])
        self.assertEqual(out[0]["outlier"]["consecutive5xxErrors"], 2)

    def test_listeners(self):
        t = self.table("listener")
        self.assertEqual(t[0], ["ADDRESS", "PORT", "MATCH", "DESTINATION"])
        self.assertIn(["127.0.0.1", "0", "ALL (http)", "Route: outbound"], t)
        self.assertIn(["127.0.0.1", "0", "ALL (tcp)", "Cluster: " + ALL], t)
        self.assertEqual(len(t), 3)
        self.assertEqual(len(self.table("listeners", "--address", "10.0.0.1")), 1)
        self.assertEqual(len(self.table("listeners", "--address", "127.0.0.1")), 3)
        out = json.loads(proxy_config(self.admin, "listeners", "-o", "json").stdout)
        self.assertEqual(sorted(l["name"] for l in out), ["outbound", "tcp"])

    def test_routes(self):
        t = self.table("route")
        self.assertEqual(t[0], ["NAME", "VHOST NAME", "DOMAINS", "MATCH", "VIRTUAL SERVICE"])
        vhost, domains = SERVICE + ":9080", SERVICE + " +1 more..."
        self.assertEqual(t[1:], [
            ["outbound", vhost, domains, "header end-user=jason", "reviews.default"],
            ["outbound", vhost, domains, "/api/*", "-"],
            ["outbound", vhost, domains, "/*", "-"]])
        self.assertEqual(len(self.table("routes", "--name", "outbound")), 4)
        self.assertEqual(len(self.table("routes", "--name", "http.8080")), 1)
        out = json.loads(proxy_config(self.admin, "route", "-o", "json").stdout)
        self.assertEqual(out[0]["virtualHosts"][0]["domains"], [SERVICE, "reviews"])

    def test_endpoints_show_the_ejected_host(self):
        t = self.table("endpoint")
        self.assertEqual(t[0], ["ENDPOINT", "STATUS", "OUTLIER CHECK", "CLUSTER"])
        good, bad = f"127.0.0.1:{self.good.port}", f"127.0.0.1:{self.bad.port}"
        self.assertCountEqual(t[1:], [[good, "HEALTHY", "OK", ALL],
                                      [good, "HEALTHY", "OK", V1],
                                      [bad, "HEALTHY", "FAILED", V1]])
        self.assertEqual(len(self.table("endpoints", "--cluster", V1)), 3)
        self.assertEqual(len(self.table("endpoints", "--status", "unhealthy")), 1)
        out = json.loads(proxy_config(self.admin, "endpoints", "-o", "json",
                                      "--cluster", V1).stdout)
        failed = [e for e in out if e["health_flags"] == "/failed_outlier_check"]
        self.assertEqual([e["address"] for e in failed], [bad])
        self.assertGreaterEqual(failed[0]["stats"]["rq_error"], 2)

    def test_secrets_without_an_identity_are_empty(self):
        t = self.table("secret")
        self.assertEqual(t, [["RESOURCE NAME", "TYPE", "STATUS", "VALID CERT", "SERIAL NUMBER",
                              "NOT AFTER", "NOT BEFORE"]])
        self.assertEqual(json.loads(proxy_config(self.admin, "secret", "-o", "json").stdout), [])

    def test_all_prints_every_table_and_json_of_each(self):
        res = proxy_config(self.admin, "all")
        self.assertEqual(res.returncode, 0, res.stderr)
        for header in ("SERVICE FQDN", "ADDRESS", "VHOST NAME", "OUTLIER CHECK", "RESOURCE NAME"):
            self.assertIn(header, res.stdout)
        out = json.loads(proxy_config(self.admin, "all", "-o", "json").stdout)
        self.assertEqual(sorted(out), ["certificates", "clusters", "endpoints", "listeners",
                                       "routeTables"])

    def test_errors(self):
        res = proxy_config(self.admin, "bogus")
        self.assertEqual(res.returncode, 2)
        self.assertIn('unknown type "bogus"', res.stderr)
        res = proxy_config(self.admin, "cluster", "-o", "yaml")
        self.assertEqual(res.returncode, 2)
        res = mesh("proxy-config")
        self.assertEqual(res.returncode, 2)
        self.assertIn("which TYPE", res.stderr)
        # Nothing listens on a port just freed.
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{s.getsockname()[1]}"
        s.close()
        res = proxy_config(closed, "cluster")
        self.assertEqual(res.returncode, 1)
        self.assertIn("connection refused", res.stderr)
        self.assertEqual(res.stdout, "")
        res = proxy_config("no-such-host.invalid:15000", "cluster")
        self.assertEqual(res.returncode, 1)
        self.assertIn("no-such-host.invalid", res.stderr)

    def test_a_page_that_is_not_json(self):
        server = Upstream("text", lambda h: reply(h, 200, b"hello, not json"))
        try:
            res = proxy_config(f"127.0.0.1:{server.port}", "listener")
        finally:
            server.stop()
        self.assertEqual(res.returncode, 1)
        self.assertIn("/config_dump is not a JSON object", res.stderr)
        self.assertEqual(res.stdout, "")

    def test_a_server_that_is_not_a_proxy_admin_port(self):
        # The proxy's outbound listener answers HTTP, but /config_dump there is a route miss.
        res = proxy_config(self.proxy.addresses["outbound"], "cluster")
        self.assertEqual(res.returncode, 1)
        self.assertIn("answered 404", res.stderr)


class ProxyConfigSecretsTest(unittest.TestCase):
    """With a certificate from a real CA: the chain and the root, and their serials."""

    def test_secret_table_matches_the_issued_files(self):
        workdir = tempfile.mkdtemp()
        ca = Ca(workdir)
        certs = os.path.join(workdir, "certs")
        sidecar = Sidecar(ca, "reviews", {"version": "s", "listeners": [], "clusters": [],
                                          "routeTables": []}, "--cert-dir", certs)
        try:
            sidecar.wait_ready()
            admin = sidecar.addresses["admin"]
            res = proxy_config(admin, "secret")
            self.assertEqual(res.returncode, 0, res.stderr)
            t = rows(res.stdout)

            def serial(path):
                out = subprocess.run(["openssl", "x509", "-noout", "-serial", "-in", path],
                                     capture_output=True, text=True, timeout=30).stdout
                return out.strip().split("=", 1)[1].lstrip("0").lower()

            self.assertEqual(len(t), 3)
            chain, root = t[1], t[2]
            self.assertEqual(chain[:4], ["default", "Cert Chain", "ACTIVE", "true"])
            self.assertEqual(chain[4].lstrip("0").lower(), serial(os.path.join(certs, "cert-chain.pem")))
            self.assertEqual(root[:4], ["ROOTCA", "CA", "ACTIVE", "true"])
            self.assertEqual(root[4].lstrip("0").lower(), serial(ca.root))
            self.assertLess(chain[6], chain[5])  # NOT BEFORE < NOT AFTER

            page = json.loads(proxy_config(admin, "secret", "-o", "json").stdout)
            self.assertEqual(page[0]["spiffeId"], "spiffe://cluster.local/ns/default/sa/reviews")
            raw = sidecar.admin("/certs")
            self.assertNotIn("PRIVATE KEY", raw)
            self.assertNotIn("BEGIN", raw)
        finally:
            sidecar.stop()
            ca.stop()


if __name__ == "__main__":
    main()
