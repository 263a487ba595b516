"""AuthorizationPolicy through real sidecars with real identities: a `reviews` workload
(namespace bar) behind its sidecar, called by sidecars of `sleep` (namespace foo) and
`ratings` (namespace bar), each with a certificate from a real `mesh ca`, and by a client
with no sidecar at all (plain text; the server's port is PERMISSIVE). Each row of the table
installs a set of policies in the server sidecar's snapshot (the form pilot sends), reloads
it, and checks one request: 200 from the app, or 403 `RBAC: access denied` from the sidecar.
"""
import http.client
import json
import os
import shutil
import signal
import tempfile
import time
import unittest

from ca_test import Ca
from meshtest import main
from proxy_http_test import Upstream
from proxy_mtls_test import SERVICE, Sidecar

TD = "spiffe://cluster.local"
REVIEWS = TD + "/ns/bar/sa/reviews"
SLEEP = "cluster.local/ns/foo/sa/sleep"
RATINGS = "cluster.local/ns/bar/sa/ratings"
CLUSTER = "outbound|9080||" + SERVICE


def server_snapshot(app_port, policies, version):
    return {
        "version": version,
        "listeners": [{"name": "inbound", "address": "127.0.0.1", "port": 0,
                       "direction": "INBOUND", "defaultMtls": "PERMISSIVE",
                       "inboundPorts": [{"port": 9080, "protocol": "http",
                                         "cluster": "inbound|9080||", "mtls": "PERMISSIVE"}]}],
        "clusters": [{"name": "inbound|9080||", "service": SERVICE, "port": 9080,
                      "endpoints": [{"address": "127.0.0.1", "port": app_port}]}],
        "authorizationPolicies": policies,
    }


def client_snapshot(inbound_port):
    return {
        "version": "c1",
        "listeners": [{"name": "outbound", "address": "127.0.0.1", "port": 0,
                       "routeTable": "rt"}],
        "routeTables": [{"name": "rt", "virtualHosts": [
            {"name": "reviews", "domains": ["reviews", "reviews:9080"],
             "routes": [{"route": [{"cluster": CLUSTER}]}]}]}],
        "clusters": [{"name": CLUSTER, "service": SERVICE, "port": 9080,
                      "tls": {"mode": "ISTIO_MUTUAL", "identities": [REVIEWS]},
                      "endpoints": [{"address": "127.0.0.1", "port": 9080,
                                     "sidecarPort": inbound_port, "identity": REVIEWS}]}],
    }


def policy(name, spec, ns="bar"):
    return {"name": name, "namespace": ns, "spec": spec}


def rule(source=None, operation=None, when=None):
    r = {}
    if source is not None:
        r["from"] = [{"source": source}]
    if operation is not None:
        r["to"] = [{"operation": operation}]
    if when is not None:
        r["when"] = when
    return r


def allow(*rules):
    return {"action": "ALLOW", "rules": list(rules)}


def deny(*rules):
    return {"action": "DENY", "rules": list(rules)}


# (name, policies, caller, method, path, headers, expected status)
# caller: "sleep" (foo/sleep over mTLS), "ratings" (bar/ratings over mTLS), "plain" (no sidecar)
CASES = [
    ("no policy allows everyone", [], "plain", "GET", "/", {}, 200),
    ("allow-nothing policy denies", [policy("none", {})], "sleep", "GET", "/", {}, 403),
    ("allow-all rule allows", [policy("all", allow({}))], "plain", "GET", "/", {}, 200),
    ("deny without rules denies nothing", [policy("d", deny())], "sleep", "GET", "/", {}, 200),
    ("principals match", [policy("p", allow(rule({"principals": [SLEEP]})))],
     "sleep", "GET", "/", {}, 200),
    ("principals other caller", [policy("p", allow(rule({"principals": [SLEEP]})))],
     "ratings", "GET", "/", {}, 403),
    ("principals need mTLS", [policy("p", allow(rule({"principals": ["*"]})))],
     "plain", "GET", "/", {}, 403),
    ("principals wildcard any mTLS", [policy("p", allow(rule({"principals": ["*"]})))],
     "ratings", "GET", "/", {}, 200),
    ("principals suffix wildcard", [policy("p", allow(rule({"principals": ["*/sa/sleep"]})))],
     "sleep", "GET", "/", {}, 200),
    ("principals prefix wildcard", [policy("p", allow(rule({"principals": ["cluster.local/ns/bar/*"]})))],
     "sleep", "GET", "/", {}, 403),
    ("notPrincipals excludes", [policy("p", allow(rule({"notPrincipals": [SLEEP]})))],
     "sleep", "GET", "/", {}, 403),
    ("notPrincipals lets others", [policy("p", allow(rule({"notPrincipals": [SLEEP]})))],
     "ratings", "GET", "/", {}, 200),
    ("notPrincipals * means plain text only", [policy("p", allow(rule({"notPrincipals": ["*"]})))],
     "plain", "GET", "/", {}, 200),
    ("namespaces match", [policy("p", allow(rule({"namespaces": ["foo"]})))],
     "sleep", "GET", "/", {}, 200),
    ("namespaces other", [policy("p", allow(rule({"namespaces": ["foo"]})))],
     "ratings", "GET", "/", {}, 403),
    ("notNamespaces", [policy("p", allow(rule({"notNamespaces": ["foo"]})))],
     "ratings", "GET", "/", {}, 200),
    ("ipBlocks loopback", [policy("p", allow(rule({"ipBlocks": ["127.0.0.0/8"]})))],
     "plain", "GET", "/", {}, 200),
    ("ipBlocks elsewhere", [policy("p", allow(rule({"ipBlocks": ["10.0.0.0/8"]})))],
     "plain", "GET", "/", {}, 403),
    ("notIpBlocks", [policy("p", allow(rule({"notIpBlocks": ["127.0.0.1"]})))],
     "sleep", "GET", "/", {}, 403),
    ("remoteIpBlocks", [policy("p", allow(rule({"remoteIpBlocks": ["127.0.0.1/32"]})))],
     "sleep", "GET", "/", {}, 200),
    ("notRemoteIpBlocks", [policy("p", allow(rule({"notRemoteIpBlocks": ["127.0.0.0/8"]})))],
     "sleep", "GET", "/", {}, 403),
    ("methods match", [policy("p", allow(rule(operation={"methods": ["GET", "HEAD"]})))],
     "sleep", "GET", "/", {}, 200),
    ("methods other", [policy("p", allow(rule(operation={"methods": ["GET"]})))],
     "sleep", "POST", "/", {}, 403),
    ("notMethods", [policy("p", allow(rule(operation={"notMethods": ["DELETE"]})))],
     "sleep", "DELETE", "/", {}, 403),
    ("paths exact", [policy("p", allow(rule(operation={"paths": ["/reviews/1"]})))],
     "sleep", "GET", "/reviews/1", {}, 200),
    ("paths exact ignores the query", [policy("p", allow(rule(operation={"paths": ["/reviews/1"]})))],
     "sleep", "GET", "/reviews/1?x=y", {}, 200),
    ("paths prefix wildcard", [policy("p", allow(rule(operation={"paths": ["/reviews/*"]})))],
     "sleep", "GET", "/reviews/7", {}, 200),
    ("paths suffix wildcard", [policy("p", allow(rule(operation={"paths": ["*.json"]})))],
     "sleep", "GET", "/a/b.html", {}, 403),
    ("notPaths", [policy("p", allow(rule(operation={"notPaths": ["/admin*"]})))],
     "sleep", "GET", "/admin/users", {}, 403),
    ("hosts match", [policy("p", allow(rule(operation={"hosts": ["reviews"]})))],
     "sleep", "GET", "/", {}, 200),
    ("hosts wildcard other", [policy("p", allow(rule(operation={"hosts": ["*.example.com"]})))],
     "sleep", "GET", "/", {}, 403),
    ("notHosts", [policy("p", allow(rule(operation={"notHosts": ["rev*"]})))],
     "sleep", "GET", "/", {}, 403),
    ("ports match", [policy("p", allow(rule(operation={"ports": ["9080"]})))],
     "sleep", "GET", "/", {}, 200),
    ("notPorts", [policy("p", allow(rule(operation={"notPorts": ["9080"]})))],
     "sleep", "GET", "/", {}, 403),
    ("when header value", [policy("p", allow(rule(when=[{"key": "request.headers[x-role]", "values": ["admin"]}])))],
     "sleep", "GET", "/", {"x-role": "admin"}, 200),
    ("when header missing", [policy("p", allow(rule(when=[{"key": "request.headers[x-role]", "values": ["admin"]}])))],
     "sleep", "GET", "/", {}, 403),
    ("when header notValues", [policy("p", allow(rule(when=[{"key": "request.headers[x-role]", "notValues": ["guest"]}])))],
     "sleep", "GET", "/", {"x-role": "guest"}, 403),
    ("when source.namespace", [policy("p", allow(rule(when=[{"key": "source.namespace", "values": ["bar"]}])))],
     "ratings", "GET", "/", {}, 200),
    ("when source.principal", [policy("p", allow(rule(when=[{"key": "source.principal", "values": [SLEEP]}])))],
     "ratings", "GET", "/", {}, 403),
    ("when source.ip", [policy("p", allow(rule(when=[{"key": "source.ip", "values": ["127.0.0.0/8"]}])))],
     "plain", "GET", "/", {}, 200),
    ("when destination.port", [policy("p", allow(rule(when=[{"key": "destination.port", "values": ["9080"]}])))],
     "sleep", "GET", "/", {}, 200),
    ("when connection.sni", [policy("p", allow(rule(when=[{"key": "connection.sni", "values": ["*reviews.default.svc.cluster.local"]}])))],
     "sleep", "GET", "/", {}, 200),
    ("when request.auth.principal needs a JWT", [policy("p", allow(rule(when=[{"key": "request.auth.principal", "values": ["*"]}])))],
     "sleep", "GET", "/", {}, 403),
    ("requestPrincipals need a JWT", [policy("p", allow(rule({"requestPrincipals": ["*"]})))],
     "sleep", "GET", "/", {}, 403),
    ("from and to both must match", [policy("p", allow(rule({"namespaces": ["foo"]}, {"methods": ["POST"]})))],
     "sleep", "GET", "/", {}, 403),
    ("any of the rules", [policy("p", allow(rule({"namespaces": ["nope"]}), rule(operation={"methods": ["GET"]})))],
     "sleep", "GET", "/", {}, 200),
    ("DENY over ALLOW", [policy("all", allow({})),
                         policy("no-delete", deny(rule(operation={"methods": ["DELETE"]})))],
     "sleep", "DELETE", "/", {}, 403),
    ("DENY only what it matches", [policy("all", allow({})),
                                   policy("no-delete", deny(rule(operation={"methods": ["DELETE"]})))],
     "sleep", "GET", "/", {}, 200),
    ("implicit deny once an ALLOW exists", [policy("only-ratings", allow(rule({"principals": [RATINGS]})))],
     "sleep", "GET", "/", {}, 403),
    ("DENY alone leaves the rest allowed", [policy("no-sleep", deny(rule({"principals": [SLEEP]})))],
     "ratings", "GET", "/", {}, 200),
    ("DENY by principal", [policy("no-sleep", deny(rule({"principals": [SLEEP]})))],
     "sleep", "GET", "/", {}, 403),
    ("AUDIT never denies", [policy("audit", {"action": "AUDIT", "rules": [{}]})],
     "sleep", "GET", "/", {}, 200),
    ("several ALLOW policies: any one", [policy("a", allow(rule({"principals": [RATINGS]}))),
                                         policy("b", allow(rule(operation={"paths": ["/open*"]})))],
     "sleep", "GET", "/open/x", {}, 200),
]


class AuthorizationTable(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="mesh-authz-")
        cls.ca = Ca(cls.dir)
        cls.app = Upstream("reviews-app")
        cls.server = None
        cls.clients = {}
        cls.version = 0
        try:
            cls.server = Sidecar(cls.ca, "reviews", server_snapshot(cls.app.port, [], "s0"),
                                 ns="bar")
            cls.inbound = cls.server.port("inbound")
            for sa, ns in (("sleep", "foo"), ("ratings", "bar")):
                cls.clients[sa] = Sidecar(cls.ca, sa, client_snapshot(cls.inbound), ns=ns)
            for s in [cls.server, *cls.clients.values()]:
                s.wait_ready()
        except BaseException:
            cls.tearDownClass()  # unittest skips it when setUpClass fails: nothing may linger
            raise

    @classmethod
    def tearDownClass(cls):
        for s in cls.clients.values():
            s.stop()
        if cls.server:
            cls.server.stop()
        cls.app.stop()
        cls.ca.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def install(self, policies):
        type(self).version += 1
        version = f"authz-{self.version}"
        self.server.write(server_snapshot(self.app.port, policies, version))
        self.server.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while time.time() < deadline:
            if f'"{version}"' in self.server.admin("/config_dump"):
                return
            time.sleep(0.02)
        self.fail("the server sidecar did not load the policies:\n" + self.server.stderr())

    def request(self, caller, method, path, headers):
        if caller == "plain":
            port, host = self.inbound, "reviews"
        else:
            port, host = self.clients[caller].port("outbound"), "reviews"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request(method, path, headers={"Host": host, **headers})
        resp = conn.getresponse()
        body = resp.read().decode()
        conn.close()
        return resp.status, body

    def test_table(self):
        self.assertGreaterEqual(len(CASES), 40)
        for name, policies, caller, method, path, headers, expected in CASES:
            with self.subTest(name):
                self.install(policies)
                status, body = self.request(caller, method, path, headers)
                self.assertEqual(status, expected, f"{name}: {body}")
                if expected == 403:
                    self.assertEqual(body, "RBAC: access denied")
                else:
                    self.assertIn("reviews-app", body)

    def test_denials_are_counted_and_a_bad_policy_keeps_the_last_good_config(self):
        self.install([policy("only-ratings", allow(rule({"principals": [RATINGS]})))])
        before = self.server.counter("mesh_proxy_rbac_denied_total", 'protocol="http"')
        self.assertEqual(self.request("sleep", "GET", "/", {})[0], 403)
        self.assertEqual(self.server.counter("mesh_proxy_rbac_denied_total", 'protocol="http"'), before + 1)
        # A CUSTOM policy cannot be enforced here: the snapshot is refused and the policies
        # in force stay as they were.
        self.server.write(server_snapshot(
            self.app.port, [policy("ext", {"action": "CUSTOM", "provider": {"name": "opa"}})],
            "custom"))
        self.server.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while "CUSTOM" not in self.server.stderr() and time.time() < deadline:
            time.sleep(0.05)
        self.assertIn("CUSTOM", self.server.stderr())
        self.assertNotIn('"custom"', self.server.admin("/config_dump"))
        self.assertEqual(self.request("sleep", "GET", "/", {})[0], 403)
        self.assertEqual(self.request("ratings", "GET", "/", {})[0], 200)


if __name__ == "__main__":
    main()
