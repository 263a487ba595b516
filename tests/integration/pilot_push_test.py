"""mesh pilot end to end: real `mesh pilot` processes (CA inside), proxy-side clients over
mTLS, config files changed on disk."""
import os
import time
import unittest

from meshtest import main
from pilot_harness import Client, Pilot, TempDir, bookinfo_config, reviews_targets, write_atomically

REVIEWS = "outbound|9080|%s|reviews.default.svc.cluster.local"


def outbound_services(config):
    return {c.split("|")[3] for c in config["clusters"] if c.startswith("outbound|")}


SIDECAR = """apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: productpage
  namespace: default
spec:
  workloadSelector:
    labels:
      app: productpage
  egress:
  - hosts:
    - "./reviews.default.svc.cluster.local"
"""


class PilotPushTest(unittest.TestCase):
    def setUp(self):
        self.tmp = TempDir()
        self.dir = self.tmp.__enter__()
        self.config_dir = os.path.join(self.dir, "config")
        bookinfo_config(self.config_dir, "virtual-service-all-v1.yaml")
        self.pilot = Pilot(self.dir, self.config_dir, "127.0.0.1:0", "--endpoint-grace", "300ms")
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.stop()
        self.pilot.stop()
        self.tmp.__exit__(None, None, None)

    def client(self, ns, sa, node, *extra, **kw):
        c = Client(self.pilot, ns, sa, node, *extra, **kw)
        self.clients.append(c)
        return c

    def productpage(self, *extra):
        return self.client("default", "bookinfo-productpage", "productpage-v1.default",
                           "--label", "app=productpage", "--label", "version=v1", *extra)

    def vs_path(self):
        return os.path.join(self.config_dir, "networking", "virtual-service-all-v1.yaml")

    def test_snapshot_ack_then_a_file_change_arrives_within_a_second(self):
        pp = self.productpage()
        first = pp.config()
        self.assertEqual(first["event"], "snapshot")
        self.assertIn(REVIEWS % "v3", first["clusters"])
        self.assertEqual(reviews_targets(first), [REVIEWS % "v1"])
        self.pilot.wait_sync("productpage-v1.default", "SYNCED")

        with open(self.vs_path()) as f:
            text = f.read()
        started = time.monotonic()
        write_atomically(self.vs_path(), text.replace("host: reviews\n        subset: v1",
                                                      "host: reviews\n        subset: v3"))
        changed = pp.config(lambda e: reviews_targets(e) == [REVIEWS % "v3"], timeout=3)
        elapsed = time.monotonic() - started
        self.assertLess(elapsed, 1.0, "config change took %.3f s to reach the proxy" % elapsed)
        self.pilot.wait_sync("productpage-v1.default", "SYNCED")
        self.assertEqual(self.pilot.syncz("productpage-v1.default")["sent"], changed["version"])

    def test_a_bad_change_is_rejected_with_file_and_line_and_the_last_good_config_stays(self):
        pp = self.productpage()
        pp.config()
        self.pilot.wait_sync("productpage-v1.default", "SYNCED")
        with open(self.vs_path()) as f:
            text = f.read()
        write_atomically(self.vs_path(), text.replace("host: reviews\n        subset: v1\n",
                                                      "host: reviews\n        subset: v1\n      weight: 300\n"))
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            errors = self.pilot.get_json("/debug/configz")["errors"]
            if errors:
                break
            time.sleep(0.05)
        self.assertEqual(len(errors), 1, errors)
        self.assertRegex(errors[0], r"virtual-service-all-v1\.yaml:\d+: VirtualService default/reviews: "
                                    r"spec\.http\[0\]\.route\[0\]\.weight")
        self.assertIn("VirtualService default/reviews", self.pilot.get_json("/debug/configz")["keptFromBefore"])
        self.assertIn("pilot_config_errors 1", self.pilot.get("/metrics"))
        # Nothing new was pushed, and what the proxy runs still routes reviews to v1.
        time.sleep(0.3)
        pp.drain()
        self.assertEqual(reviews_targets(pp.last_config), [REVIEWS % "v1"])
        self.assertEqual(self.pilot.syncz("productpage-v1.default")["state"], "SYNCED")
        self.assertIn("config: ", self.pilot.log_text())

    def test_a_nacked_snapshot_is_recorded_and_the_proxy_keeps_its_config(self):
        pp = self.productpage("--nack-cluster", "v9")
        good = pp.config()
        self.pilot.wait_sync("productpage-v1.default", "SYNCED")
        # A DestinationRule subset the client refuses (as a proxy would refuse an unknown value).
        path = os.path.join(self.config_dir, "networking", "destination-rule-all.yaml")
        with open(path) as f:
            text = f.read()
        write_atomically(path, text.replace("  - name: v3\n", "  - name: v9\n    labels:\n      version: v9\n  - name: v3\n", 1))
        nack = pp.wait(lambda e: e.get("event") == "nack", what="nack")
        status = self.pilot.wait_sync("productpage-v1.default", "NACKED")
        self.assertEqual(status["nacked"], nack["version"])
        self.assertIn(REVIEWS % "v9", status["nack_reason"])
        self.assertEqual(status["acked"], good["version"])
        self.assertIn("pilot_total_xds_rejects 1", self.pilot.get("/metrics"))

    def test_a_sidecar_limits_what_the_proxy_receives(self):
        write_atomically(os.path.join(self.config_dir, "sidecar.yaml"), SIDECAR)
        pp = self.productpage()
        # The proxy may connect before pilot's debounced reload has seen the new file; the
        # scoped view must arrive right after it does.
        only_reviews = {"reviews.default.svc.cluster.local"}
        config = pp.config(lambda e: outbound_services(e) == only_reviews)
        self.assertEqual(outbound_services(config), only_reviews)
        self.assertEqual(list(config["routes"]), ["reviews.default.svc.cluster.local:9080"])
        # Another workload of the namespace is not selected and still sees the whole mesh.
        other = self.client("default", "bookinfo-details", "details-v1.default", "--label", "app=details")
        services = {c.split("|")[3] for c in other.config()["clusters"] if c.startswith("outbound|")}
        self.assertEqual(len(services), 4)

    def test_endpoints_come_and_go_with_the_proxies_that_register_them(self):
        pp = self.productpage("--delta", "1")
        first = pp.config()
        self.assertEqual(first["endpoints"][REVIEWS % "v2"], [])
        reviews = self.client("default", "bookinfo-reviews", "reviews-v2.default", "--label", "app=reviews",
                              "--label", "version=v2", "--address", "127.0.0.2", "--port", "9080",
                              "--sidecar-port", "15006")
        reviews.config()
        update = pp.config(lambda e: e["endpoints"].get(REVIEWS % "v2") == ["127.0.0.2:9080"])
        self.assertEqual(update["event"], "delta")
        self.assertLess(update["bytes"], first["bytes"] / 2)
        self.assertEqual(update["endpoints"][REVIEWS % "v1"], [])
        reviews.stop()
        gone = pp.config(lambda e: e["endpoints"].get(REVIEWS % "v2") == [], timeout=5)
        self.assertEqual(gone["event"], "delta")

    def test_a_proxy_cannot_claim_another_identity(self):
        c = self.client("default", "bookinfo-reviews", "fake.other", "--claim-namespace", "other",
                        "--address", "127.0.0.9", "--port", "9080", "--label", "app=reviews")
        err = c.wait(lambda e: e.get("event") == "message" and e["message"].get("type") == "error",
                     what="error frame")
        self.assertEqual(err["message"]["code"], "denied")
        self.assertIn('pilot_xds_refusals_total{reason="identity_mismatch"}', self.pilot.get("/metrics"))
        for s in self.pilot.get_json("/debug/registryz"):
            for p in s["ports"]:
                self.assertNotIn("127.0.0.9", [e["address"] for e in p["endpoints"]])

    def test_proxies_keep_their_config_across_a_pilot_restart_and_reconnect(self):
        pp = self.productpage()
        before = pp.config()
        address = self.pilot.listen
        self.pilot.stop()
        pp.wait(lambda e: e.get("event") == "disconnected", timeout=10, what="disconnect")
        self.assertEqual(pp.proc.poll(), None)  # still running on its last config
        self.pilot = Pilot(self.dir, self.config_dir, address)
        again = pp.config(timeout=10)
        self.assertEqual(again["clusters"], before["clusters"])
        self.pilot.wait_sync("productpage-v1.default", "SYNCED")

    def test_a_restarted_pilot_waits_for_the_proxies_coming_back_before_pushing(self):
        # Before the restart productpage routes to reviews-v2's endpoint. After it, productpage
        # is back first; reviews-v2 comes back half a second later. Pushed at once, productpage
        # would get reviews-v2 without endpoints; held through the warm-up, it gets the
        # endpoint in its first snapshot.
        pp = self.productpage()
        pp.config()
        reviews_args = ("default", "bookinfo-reviews", "reviews-v2.default", "--label", "app=reviews",
                        "--label", "version=v2", "--address", "127.0.0.2", "--port", "9080")
        reviews = self.client(*reviews_args)
        reviews.config()
        pp.config(lambda e: e["endpoints"].get(REVIEWS % "v2") == ["127.0.0.2:9080"])
        address = self.pilot.listen
        reviews.stop()
        self.pilot.stop()
        pp.wait(lambda e: e.get("event") == "disconnected", timeout=10, what="disconnect")
        self.pilot = Pilot(self.dir, self.config_dir, address, "--endpoint-grace", "300ms")
        pp.wait(lambda e: e.get("event") == "connected", timeout=10, what="reconnection")
        back = time.monotonic()
        time.sleep(0.5)
        self.client(*reviews_args, "--serving", "1")  # a sidecar reconnecting with its config
        first = pp.config(timeout=10)
        held = time.monotonic() - back
        self.assertEqual(first["endpoints"][REVIEWS % "v2"], ["127.0.0.2:9080"])
        self.assertGreaterEqual(held, 1.5)  # the 2 s warm-up, from the first serving hello
        self.assertLess(held, 4)
        self.pilot.wait_sync("productpage-v1.default", "SYNCED")
        self.pilot.wait_sync("reviews-v2.default", "SYNCED")
        self.assertIn("warm-up over: 2 proxies reconnected serving", self.pilot.log_text())


if __name__ == "__main__":
    main()
