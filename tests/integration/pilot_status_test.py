"""`mesh proxy-status` and pilot's monitoring port: what operators look at."""
import os
import re
import unittest

from meshtest import main, mesh
from pilot_harness import Client, Pilot, TempDir, bookinfo_config

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:  # python3-prometheus-client is an optional checker
    text_string_to_metric_families = None


class PilotStatusTest(unittest.TestCase):
    def setUp(self):
        self.tmp = TempDir()
        self.dir = self.tmp.__enter__()
        config = os.path.join(self.dir, "config")
        bookinfo_config(config, "virtual-service-reviews-80-20.yaml")
        self.pilot = Pilot(self.dir, config)
        self.clients = [
            Client(self.pilot, "default", "bookinfo-productpage", "productpage-v1.default",
                   "--label", "app=productpage"),
            Client(self.pilot, "default", "bookinfo-reviews", "reviews-v1.default",
                   "--label", "app=reviews", "--label", "version=v1", "--nack-cluster", "reviews"),
        ]
        for c in self.clients:
            c.wait(lambda e: e.get("event") in ("snapshot", "nack"), what="first answer")
        self.pilot.wait_sync("productpage-v1.default", "SYNCED")
        self.pilot.wait_sync("reviews-v1.default", "NACKED")

    def tearDown(self):
        for c in self.clients:
            c.stop()
        self.pilot.stop()
        self.tmp.__exit__(None, None, None)

    def test_proxy_status_prints_istios_table(self):
        r = mesh("proxy-status", "--pilot", self.pilot.monitor)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "CLUSTER", "CONFIG", "PILOT", "VERSION"])
        rows = {l.split()[0]: l.split() for l in lines[1:3]}
        self.assertEqual(rows["productpage-v1.default"][1:4], ["Kubernetes", "SYNCED", "mesh-pilot"])
        self.assertEqual(rows["productpage-v1.default"][4], self.pilot.syncz("productpage-v1.default")["sent"])
        self.assertEqual(rows["reviews-v1.default"][2], "NACKED")
        self.assertEqual(rows["reviews-v1.default"][4], "-")  # nothing ACKed yet
        self.assertRegex(r.stdout, r"NACK reasons:\n  reviews-v1\.default: cluster outbound\|9080\|.*reviews")

    def test_proxy_status_as_json_and_against_no_pilot(self):
        r = mesh("proxy-status", "--pilot", self.pilot.monitor, "-o", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('"state": "SYNCED"', r.stdout)
        r = mesh("proxy-status", "--pilot", "127.0.0.1:1")
        self.assertEqual(r.returncode, 1)
        self.assertIn("mesh proxy-status:", r.stderr)

    def test_metrics_use_istios_names_and_parse(self):
        text = self.pilot.get("/metrics")
        self.assertRegex(text, r'pilot_xds_pushes\{type="snapshot"\} 2')
        self.assertIn("pilot_xds 2", text)
        self.assertRegex(text, r"pilot_proxy_convergence_time_bucket\{le=\"\+Inf\"\} \d+")
        self.assertIn("pilot_services 4", text)
        if text_string_to_metric_families is None:
            self.skipTest("python3-prometheus-client is not installed")
        names = {f.name: f.type for f in text_string_to_metric_families(text)}
        self.assertEqual(names["pilot_proxy_convergence_time"], "histogram")
        self.assertEqual(names["pilot_xds_pushes"], "counter")

    def test_debug_pages(self):
        registry = self.pilot.get_json("/debug/registryz")
        hosts = sorted(s["host"] for s in registry)
        self.assertEqual(hosts, ["details.default.svc.cluster.local", "productpage.default.svc.cluster.local",
                                 "ratings.default.svc.cluster.local", "reviews.default.svc.cluster.local"])
        config = self.pilot.get_json("/debug/configz")
        kinds = sorted({r["kind"] for r in config["resources"]})
        self.assertEqual(kinds, ["Deployment", "DestinationRule", "Service", "VirtualService"])
        self.assertEqual(config["errors"], [])
        self.assertEqual(len(config["skipped"]), 4)  # the ServiceAccounts
        self.assertTrue(all(re.search(r"ServiceAccount", s) for s in config["skipped"]))
        self.assertEqual(self.pilot.get("/ready"), "ok\n")


if __name__ == "__main__":
    main()
