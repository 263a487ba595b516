"""Where an AuthorizationPolicy applies, end to end: `mesh pilot` (CA inside) reads the
policies from its config directory and sends each workload the ones that select it; real
sidecars enforce them. A policy in the root namespace (istio-system) with no selector is
mesh-wide, one with no selector in a namespace is namespace-wide, one with a selector
applies to the matching workloads of its own namespace only.

Workloads: `sleep` (namespace foo, the caller), `reviews` (bar) and `ratings` (foo), each
an app behind a sidecar that registers with pilot; requests go sleep's sidecar -> mTLS ->
the server's sidecar -> app."""
import http.client
import os
import time
import unittest

from gateway_test import MeshProxy
from meshtest import main
from pilot_harness import Pilot, TempDir, write_atomically
from proxy_http_test import Upstream, free_port

SERVICES = """apiVersion: v1
kind: Service
metadata: {{name: reviews, namespace: bar}}
spec:
  selector: {{app: reviews}}
  ports: [{{port: 9080, name: http, targetPort: {reviews}}}]
---
apiVersion: v1
kind: Service
metadata: {{name: ratings, namespace: foo}}
spec:
  selector: {{app: ratings}}
  ports: [{{port: 9080, name: http, targetPort: {ratings}}}]
"""

POLICIES = """# mesh-wide: no request with x-block: mesh anywhere
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: no-blocked, namespace: istio-system}
spec:
  action: DENY
  rules: [{when: [{key: "request.headers[x-block]", values: [mesh]}]}]
---
# namespace bar: only namespace foo, only under /open
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: bar-open, namespace: bar}
spec:
  rules:
  - from: [{source: {namespaces: [foo]}}]
    to: [{operation: {paths: ["/open*"]}}]
---
# ratings only (selector, namespace foo): /secret is denied
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ratings-secret, namespace: foo}
spec:
  selector: {matchLabels: {app: ratings}}
  action: DENY
  rules: [{to: [{operation: {paths: ["/secret*"]}}]}]
---
# a selector matching reviews' labels, but in namespace foo: not for reviews (bar)
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: not-for-reviews, namespace: foo}
spec:
  selector: {matchLabels: {app: reviews}}
  action: DENY
  rules: [{}]
"""


class AuthorizationScope(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = TempDir()
        cls.dir = cls.tmp.__enter__()
        cls.config = os.path.join(cls.dir, "config")
        os.makedirs(cls.config)
        cls.apps = {"reviews": Upstream("reviews-app"), "ratings": Upstream("ratings-app")}
        write_atomically(os.path.join(cls.config, "services.yaml"), SERVICES.format(
            reviews=cls.apps["reviews"].port, ratings=cls.apps["ratings"].port))
        write_atomically(os.path.join(cls.config, "policies.yaml"), POLICIES)
        cls.pilot = Pilot(cls.dir, cls.config)
        cls.proxies = {}
        try:
            for name, ns in (("reviews", "bar"), ("ratings", "foo")):
                cls.proxies[name] = MeshProxy(
                    cls.pilot, cls.dir, name, ns, name, "--label", "app=" + name,
                    "--address", "127.0.0.1", "--port", str(cls.apps[name].port),
                    "--sidecar-port", str(free_port()),
                    "--listener-port", "15001=127.0.0.1:%d" % free_port())
            cls.outbound = free_port()
            cls.proxies["sleep"] = MeshProxy(
                cls.pilot, cls.dir, "sleep", "foo", "sleep", "--label", "app=sleep",
                "--listener-port", "15001=127.0.0.1:%d" % cls.outbound)
            for p in cls.proxies.values():
                p.wait_ready()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for p in cls.proxies.values():
            p.stop()
        cls.pilot.stop()
        for app in cls.apps.values():
            app.stop()
        cls.tmp.__exit__(None, None, None)

    def call(self, service, path, headers=None):
        """sleep -> service through sleep's sidecar; retried while endpoints propagate."""
        deadline = time.monotonic() + 10
        while True:
            conn = http.client.HTTPConnection("127.0.0.1", self.outbound, timeout=10)
            conn.request("GET", path, headers={"Host": service + ".svc.cluster.local",
                                               **(headers or {})})
            resp = conn.getresponse()
            body = resp.read().decode()
            conn.close()
            # 503 while the server's endpoint has not reached sleep's sidecar yet.
            if resp.status != 503 or time.monotonic() > deadline:
                return resp.status, body
            time.sleep(0.1)

    def test_namespace_wide_policy_applies_to_its_namespace_only(self):
        self.assertEqual(self.call("reviews.bar", "/open/1")[0], 200)
        status, body = self.call("reviews.bar", "/closed")
        self.assertEqual((status, body), (403, "RBAC: access denied"))
        # ratings is in foo: bar's ALLOW policy does not make its other paths denied
        self.assertEqual(self.call("ratings.foo", "/closed")[0], 200)

    def test_selector_policy_applies_to_matching_workloads_of_its_namespace(self):
        self.assertEqual(self.call("ratings.foo", "/secret")[0], 403)
        # reviews has no such policy (and the foo policy selecting app=reviews is not its)
        self.assertEqual(self.call("reviews.bar", "/open/secret")[0], 200)

    def test_root_namespace_policy_is_mesh_wide(self):
        for service, path in (("reviews.bar", "/open/1"), ("ratings.foo", "/any")):
            self.assertEqual(self.call(service, path)[0], 200)
            self.assertEqual(self.call(service, path, {"x-block": "mesh"})[0], 403)

    def test_each_sidecar_received_only_its_policies(self):
        def names(proxy):
            dump = self.proxies[proxy].config_dump()
            return sorted(p["namespace"] + "/" + p["name"] for p in dump["authorizationPolicies"])
        self.assertEqual(names("reviews"), ["bar/bar-open", "istio-system/no-blocked"])
        self.assertEqual(names("ratings"), ["foo/ratings-secret", "istio-system/no-blocked"])
        self.assertEqual(names("sleep"), ["istio-system/no-blocked"])


if __name__ == "__main__":
    main()
