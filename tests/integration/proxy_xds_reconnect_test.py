"""A sidecar reconnecting to a restarted pilot (proxy/xds/xds_client.h): its hello says it is
serving, and for the reconnect grace (10 s) it keeps the endpoints it routes to that a
snapshot from the new pilot lacks, then applies pilot's latest snapshot exactly as sent.
Pilot is played by proxy_mtls_test's FakePilot, so the test decides what it sends."""
import shutil
import tempfile
import time
import unittest

from ca_test import Ca
from meshtest import main
from proxy_http_test import Upstream, free_port
from proxy_mtls_test import FakePilot, pilot_fed_sidecar

GRACE = 10  # s, XdsOptions::reconnectGrace


def snapshot(listen_port, endpoints):
    return {"listeners": [{"name": "outbound", "address": "127.0.0.1", "port": listen_port,
                           "routeTable": "rt"}],
            "routeTables": [{"name": "rt", "virtualHosts": [
                {"name": "app", "domains": ["*"], "routes": [{"route": [{"cluster": "app"}]}]}]}],
            "clusters": [{"name": "app", "service": "app",
                          "endpoints": [{"address": "127.0.0.1", "port": p} for p in endpoints]}]}


class ReconnectTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.ca = Ca(self.dir)
        self.first = Upstream("first-app")
        self.second = Upstream("second-app")
        self.pilot = FakePilot(self.ca, self.dir)
        self.sidecar = pilot_fed_sidecar(self.ca, self.pilot)

    def tearDown(self):
        self.sidecar.stop()
        self.pilot.stop()
        self.first.stop()
        self.second.stop()
        self.ca.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def apps_answering(self, port, requests=8):
        seen = set()
        for _ in range(requests):
            resp, body = self.sidecar.get("app", port)
            self.assertEqual(resp.status, 200, body)
            seen.update(n for n in ("first-app", "second-app") if n.encode() in body)
        return seen

    def test_a_snapshot_lacking_endpoints_after_a_reconnect_does_not_take_them_away(self):
        hello = self.pilot.next("hello")
        self.assertNotIn("serving", hello)  # nothing to serve yet
        port = free_port()
        self.pilot.send({"type": "snapshot", "version": "v1",
                         "config": snapshot(port, [self.first.port])})
        self.assertEqual(self.pilot.next("ack")["version"], "v1")
        self.sidecar.wait_ready()
        self.assertEqual(self.apps_answering(port), {"first-app"})

        # Pilot restarts; the proxy comes back serving.
        old_port = self.pilot.port
        self.pilot.stop()
        self.pilot = FakePilot(self.ca, self.dir, old_port)
        hello = self.pilot.next("hello", timeout=20)
        back = time.monotonic()
        self.assertIs(hello.get("serving"), True)
        # The new pilot does not know the first app's endpoint yet: the proxy keeps it.
        self.pilot.send({"type": "snapshot", "version": "v2", "config": snapshot(port, [])})
        self.assertEqual(self.pilot.next("ack")["version"], "v2")
        self.assertEqual(self.apps_answering(port), {"first-app"})
        # Endpoints pilot sends are added to those kept.
        self.pilot.send({"type": "snapshot", "version": "v3",
                         "config": snapshot(port, [self.second.port])})
        self.assertEqual(self.pilot.next("ack")["version"], "v3")
        self.assertEqual(self.apps_answering(port), {"first-app", "second-app"})
        self.assertLess(time.monotonic() - back, GRACE - 1)
        log = self.sidecar.stderr()
        self.assertIn('version "v2" lacks 1 endpoint(s)', log)

        # After the grace, pilot's latest snapshot runs exactly as sent.
        deadline = back + GRACE + 5
        while "applied as pilot sent it" not in self.sidecar.stderr():
            self.assertLess(time.monotonic(), deadline, self.sidecar.stderr())
            time.sleep(0.1)
        self.assertGreaterEqual(time.monotonic() - back, GRACE - 0.5)
        self.assertEqual(self.apps_answering(port), {"second-app"})
        self.assertIn('"v3"', self.sidecar.admin("/config_dump"))


if __name__ == "__main__":
    main()
