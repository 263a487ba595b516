"""Failure drills under steady load: the mesh keeps serving while a part of it fails.

Each drill runs a few client threads sending idempotent GETs over keep-alive connections
through a sidecar, counts every failed request exactly, and prints what it sent, what failed
and how long it ran:

1. an endpoint's app is SIGKILLed: retries hide it and outlier detection ejects it;
2. pilot is SIGKILLed: the sidecars serve on their last config, reconnect when `mesh up` has
   started pilot again, are SYNCED and take a config change made after the restart;
3. the CA is down through a renewal: the sidecars serve on their certificates, their renewals
   fail and are retried, and once the CA is back they present new certificates;
4. the root is rotated with overlap (docs/ca.md) while every request makes a new handshake:
   none fails, and the sidecars end up presenting certificates of the new root only.

Drills 1 and 2 run on a `mesh up` of a small directory written here; 3 and 4 on a standalone
`mesh ca` with short-lived certificates and two sidecars started here, as
tests/integration/proxy_mtls_test.py does. Loopback only, no root, ports from the kernel."""
import calendar
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from ca_test import Ca  # noqa: E402
from meshtest import MESH, mesh  # noqa: E402
from mesh_up import MeshUp  # noqa: E402
from proxy_http_test import Upstream  # noqa: E402
from proxy_mtls_test import (CLUSTER, Sidecar, client_snapshot, serial_of,  # noqa: E402
                             server_snapshot)

CLIENT_THREADS = 4
# Each thread waits this long between requests, so the drills load the machine moderately.
PACE = 0.004


class Load:
    """CLIENT_THREADS threads sending GETs on keep-alive connections until stop(). A request
    fails when it gets no answer or an answer other than 200; each failure is kept."""

    def __init__(self, port, host, path="/drill", absolute=False, check=None):
        self.port, self.host, self.path, self.absolute = port, host, path, absolute
        self.check = check
        self.sent = 0
        self.times = []  # when each request ended (wall clock)
        self.failures = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.started = time.monotonic()
        self.threads = [threading.Thread(target=self._run, daemon=True)
                        for _ in range(CLIENT_THREADS)]
        for t in self.threads:
            t.start()

    def _run(self):
        conn = None
        target = ("http://%s%s" % (self.host, self.path)) if self.absolute else self.path
        while not self.stopping.is_set():
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            failure = None
            try:
                conn.request("GET", target, headers={"Host": self.host})
                resp = conn.getresponse()
                body = resp.read()
                if resp.status != 200:
                    failure = "%d %s %s" % (resp.status, resp.getheader("x-mesh-response-flags"),
                                            body[:200])
                elif self.check:
                    self.check(resp, body)
                if resp.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                failure = "%s: %s" % (type(e).__name__, e)
                conn.close()
                conn = None
            with self.lock:
                self.sent += 1
                self.times.append(time.time())
                if failure:
                    self.failures.append((time.monotonic() - self.started, time.time(), failure))
            time.sleep(PACE)
        if conn:
            conn.close()

    def count(self):
        with self.lock:
            return self.sent, len(self.failures)

    def stop(self, name):
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=15)
        took = time.monotonic() - self.started
        print("\n%s: %d requests sent, %d failed, %.1f s, %d client threads"
              % (name, self.sent, len(self.failures), took, CLIENT_THREADS), file=sys.stderr)
        for at, _, what in self.failures[:10]:
            print("  failed at %.2f s: %s" % (at, what), file=sys.stderr)
        return self.sent, len(self.failures)


def until(what, predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("%s: not seen within %.0f s" % (what, timeout))


def http_get(port, path, timeout=5):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
        return r.read().decode()


def metric(admin_port, name, labels=""):
    """The sum of a counter's series on a sidecar's /stats whose labels contain `labels`."""
    total = 0
    for m in re.finditer(r"^%s(\{[^}]*\})? (\S+)$" % name, http_get(admin_port, "/stats"), re.M):
        if labels in (m.group(1) or ""):
            total += float(m.group(2))
    return int(total)


# --- drills 1 and 2: a `mesh up` ------------------------------------------------------------

MESH_DIR = {
    "echo.yaml": """
apiVersion: v1
kind: Service
metadata: {name: echo}
spec:
  ports: [{port: 8080, name: http}]
  selector: {app: echo}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo}
spec:
  replicas: 3
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo, version: v1}}
    spec:
      serviceAccountName: echo
      containers:
      - name: echo
        command: [mesh]
        args: [echo, --service, echo, --port, "8080"]
        ports: [{containerPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: client}
spec:
  replicas: 1
  selector: {matchLabels: {app: client}}
  template:
    metadata: {labels: {app: client}}
    spec:
      serviceAccountName: client
      containers:
      - name: client
        command: [mesh]
        args: [echo, --service, client, --port, "8080"]
        ports: [{containerPort: 8080}]
""",
    # One gateway error or 5xx ejects a host for 30 s, checked every 200 ms; no VirtualService,
    # so Istio's default retries apply.
    "destination-rule.yaml": """
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: echo}
spec:
  host: echo
  trafficPolicy:
    outlierDetection:
      consecutive5xxErrors: 1
      consecutiveGatewayErrors: 1
      interval: 200ms
      baseEjectionTime: 30s
      maxEjectionPercent: 50
""",
}

VIRTUAL_SERVICE = """
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: echo}
spec:
  hosts: [echo]
  http:
  - headers:
      response:
        set: {x-drill: after-pilot-restart}
    route:
    - destination: {host: echo}
"""


def host_stats(clusters_text, cluster):
    """/clusters of a sidecar: {host: {stat: value}} for one cluster."""
    hosts = {}
    for line in clusters_text.splitlines():
        parts = line.split("::")
        if len(parts) == 4 and parts[0] == cluster and parts[1] != "default_priority":
            hosts.setdefault(parts[1], {})[parts[2]] = parts[3]
    return hosts


class MeshUpDrills(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="mesh-drills-")
        for name, text in MESH_DIR.items():
            with open(os.path.join(cls.work, name), "w") as f:
                f.write(text)
        cls.mesh = MeshUp(cls.work, "--no-ingress", grace_ms=2000)
        try:
            cls.mesh.wait_for(lambda l: l.startswith("mesh is up"), 30)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.mesh.stop()
        shutil.rmtree(cls.work, ignore_errors=True)

    def client(self):
        return self.mesh.live_pods()["client-0"]

    def load(self, **kw):
        return Load(self.client()["outbound"], "echo:8080", absolute=True, **kw)

    def echo_cluster(self):
        text = http_get(self.client()["admin"], "/clusters")
        names = {l.split("::")[0] for l in text.splitlines()
                 if l.startswith("outbound|8080||echo.")}
        self.assertEqual(len(names), 1, text)
        return host_stats(text, names.pop())

    def test_1_kill_an_endpoint_under_load(self):
        until("three echo endpoints", lambda: len(self.echo_cluster()) == 3, 10)
        pods = self.mesh.live_pods()
        victim = pods["echo-1"]
        victim_host = "127.0.0.1:%d" % victim["sidecar"]
        hosts = self.echo_cluster()
        self.assertIn(victim_host, hosts)
        admin = self.client()["admin"]
        retries_before = metric(admin, "mesh_proxy_cluster_retries_total")
        load = self.load()
        try:
            time.sleep(2)
            before = load.count()
            os.kill(victim["pids"]["app"], signal.SIGKILL)
            killed = time.monotonic()
            ejected = until("the killed endpoint ejected",
                            lambda: self.echo_cluster()[victim_host]["health_flags"] ==
                            "/failed_outlier_check" and time.monotonic() - killed, 5)
            # While ejected the host gets no requests, even once mesh up restarted the app.
            until("mesh up restarting the app",
                lambda: self.mesh.live_pods()["echo-1"]["pids"]["app"] != victim["pids"]["app"], 10)
            seen = int(self.echo_cluster()[victim_host]["rq_total"])
            time.sleep(2)
            after = self.echo_cluster()
        finally:
            sent, failed = load.stop("drill 1, endpoint SIGKILLed")
        retried = metric(admin, "mesh_proxy_cluster_retries_total") - retries_before
        ejections = metric(admin, "mesh_proxy_cluster_outlier_ejections_total")
        print("  before the kill: %d requests; ejected %.0f ms after the kill (%d ejection(s), "
              "%d request(s) retried on another host); %d requests after the kill; the killed "
              "host's rq_total stays %d while the others' reach %s" % (
                  before[0], ejected * 1000, ejections, retried, sent - before[0], seen,
                  [h["rq_total"] for k, h in after.items() if k != victim_host]),
              file=sys.stderr)
        self.assertEqual(failed, 0, load.failures[:10])
        self.assertGreater(sent - before[0], 100)
        self.assertEqual(after[victim_host]["health_flags"], "/failed_outlier_check")
        self.assertEqual(int(after[victim_host]["rq_total"]), seen)
        self.assertGreaterEqual(ejections, 1)

    def test_2_restart_pilot_under_load(self):
        info = self.mesh.state_info()
        pilot_pid = info["pilotPid"]
        monitor = int(info["monitor"].rsplit(":", 1)[1])
        drill_header = []
        load = self.load(check=lambda resp, _: drill_header.append(resp.getheader("x-drill"))
                         if resp.getheader("x-drill") else None)
        try:
            time.sleep(1)
            # Pilot hangs for 2 s (its connections stay open, nothing answers), then dies;
            # mesh up starts it again on the same ports after its backoff.
            stopped_at = time.time()
            os.kill(pilot_pid, signal.SIGSTOP)
            time.sleep(2)
            os.kill(pilot_pid, signal.SIGKILL)
            killed = time.monotonic()
            new_pid = until("pilot started again",
                            lambda: self.mesh.state_info()["pilotPid"] not in (0, pilot_pid) and
                            self.mesh.state_info()["pilotPid"], 10)

            def all_synced():
                proxies = self._syncz(monitor) or []
                return len(proxies) == 4 and all(p["state"] == "SYNCED" for p in proxies)
            until("4 sidecars SYNCED with the new pilot", all_synced, 20)
            resynced = time.monotonic() - killed
            status = mesh("proxy-status", "--pilot", "127.0.0.1:%d" % monitor)
            self.assertEqual(status.returncode, 0, status.stderr)
            self.assertEqual(status.stdout.count("SYNCED"), 4, status.stdout)

            with open(os.path.join(self.work, "virtual-service.yaml"), "w") as f:
                f.write(VIRTUAL_SERVICE)
            changed = time.monotonic()
            until("the VirtualService written after the restart in force",
                  lambda: drill_header, 10)
            applied = time.monotonic() - changed
            time.sleep(0.5)
        finally:
            sent, failed = load.stop("drill 2, pilot hung 2 s then SIGKILLed")
            try:
                os.remove(os.path.join(self.work, "virtual-service.yaml"))
            except FileNotFoundError:
                pass
        # The sidecars' logs say when each reconnected to the new pilot.
        reconnects = sorted(self._reconnects(stopped_at))
        self.assertEqual(len(reconnects), 4, reconnects)
        first_back = reconnects[0][0]
        down = [f for f in load.failures if f[1] < first_back]
        resync = [f for f in load.failures if f[1] >= first_back]
        sent_down = sum(1 for t in load.times if stopped_at <= t < first_back)
        print("  pilot pid %d -> %d; pilot unavailable for %.1f s (hung, killed, restarted) "
              "until the first sidecar reconnected; all 4 reconnected within %.0f ms of the "
              "first and were SYNCED %.1f s after the kill; a VirtualService written then was "
              "in force %.0f ms after the write" % (
                  pilot_pid, new_pid, first_back - stopped_at,
                  (reconnects[-1][0] - first_back) * 1000, resynced, applied * 1000),
              file=sys.stderr)
        print("  requests while pilot was unavailable: %d, failed %d; failed while the sidecars "
              "resynced: %d" % (sent_down, len(down), len(resync)), file=sys.stderr)
        # While pilot is away every sidecar serves on its last config: nothing may fail.
        self.assertEqual(down, [])
        self.assertGreater(sent_down, 100)
        # Nor while they resync: a reconnecting sidecar says it is serving, so the restarted
        # pilot registers it at once and holds first snapshots through a warm-up, and a
        # sidecar never trades endpoints it routes to for a snapshot that lacks them.
        self.assertEqual(resync, [])
        self.assertEqual(drill_header[-1], "after-pilot-restart")

    def _reconnects(self, since):
        """(time, pod) of each sidecar's first connection to pilot after `since`."""
        found = {}
        logs = os.path.join(self.mesh.state, "logs")
        for name in os.listdir(logs):
            if not name.endswith(".sidecar.log"):
                continue
            with open(os.path.join(logs, name)) as f:
                for line in f:
                    if "xds: connected to pilot" not in line:
                        continue
                    stamp = calendar.timegm(time.strptime(line[:19], "%Y-%m-%dT%H:%M:%S")) + \
                        float(line[19:23])
                    if stamp > since:
                        found.setdefault(name, stamp)
                        break
        return [(t, n) for n, t in found.items()]

    @staticmethod
    def _syncz(monitor):
        try:
            data = json.loads(http_get(monitor, "/debug/syncz", timeout=2))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, list) else data.get("proxies", data)


# --- drills 3 and 4: a standalone CA and two sidecars ---------------------------------------

class CaAgain(Ca):
    """The same CA (its data directory) started again on the address it had, as a restarted
    `mesh ca` behind a fixed address would be."""

    def __init__(self, previous, *extra):
        self.data = previous.data
        self.trust_domain = previous.trust_domain
        # Its address is one nothing else uses (see CaDrills.start), so the port is free again.
        self.proc = subprocess.Popen(
            [MESH, "ca", "--data-dir", self.data, "--trust-domain", self.trust_domain,
             "--listen", previous.address, "--monitoring", "127.0.0.1:0",
             "--reload-interval-ms", "100", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening "):
            self.proc.kill()
            raise AssertionError("mesh ca said %r; stderr: %s" % (line, self.proc.stderr.read()))
        self.address = line.split()[1]
        self.monitoring = self._read_line("monitoring")
        self.host, port = self.address.rsplit(":", 1)
        self.port = int(port)
        self.root = previous.root


def presented_chain(ca, workdir, port):
    """The certificate chain the sidecar on `port` presents to a new mTLS client."""
    certs = os.path.join(workdir, "probe-%f" % time.time())
    res = mesh("ca", "csr", "--ca", ca.address, "--ca-root", os.path.join(ca.data,
               "trust-bundle.pem"), "--token", ca.token(sa="probe"), "--out", certs)
    assert res.returncode == 0, res.stderr
    out = subprocess.run(
        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-showcerts",
         "-cert", os.path.join(certs, "cert-chain.pem"), "-key", os.path.join(certs, "key.pem")],
        input="", capture_output=True, text=True, timeout=30).stdout
    shutil.rmtree(certs, ignore_errors=True)
    return "".join(re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n",
                              out, re.S))


def verifies(chain_pem, root_file, workdir):
    path = os.path.join(workdir, "presented.pem")
    with open(path, "w") as f:
        f.write(chain_pem)
    res = subprocess.run(["openssl", "verify", "-CAfile", root_file, path],
                         capture_output=True, text=True, timeout=30)
    return res.returncode == 0


class CaDrills(unittest.TestCase):
    def start(self, ttl, *client_pool):
        self.dir = tempfile.mkdtemp(prefix="mesh-drills-ca-")
        self.procs = []
        # The CA gets a loopback address of its own: drill 3 restarts it on the same port, and
        # on 127.0.0.1 one of the load's many outgoing connections could hold that port as its
        # source port (EADDRINUSE). Nothing else binds or connects from 127.0.0.2.
        self.ca = Ca(self.dir, "cluster.local", "--default-ttl", ttl, listen="127.0.0.2:0")
        self.procs.append(self.ca)
        self.app = Upstream("drill-app")
        self.server = Sidecar(self.ca, "reviews", server_snapshot(self.app.port),
                              "--cert-dir", os.path.join(self.dir, "server-certs"))
        self.procs.append(self.server)
        snapshot = client_snapshot(self.server.port("inbound"))
        if client_pool:
            for c in snapshot["clusters"]:
                c["pool"] = client_pool[0]
        self.client = Sidecar(self.ca, "productpage", snapshot,
                              "--cert-dir", os.path.join(self.dir, "client-certs"))
        self.procs.append(self.client)
        self.server.wait_ready()
        self.client.wait_ready()

    def setUp(self):
        self.procs = []
        self.app = None
        self.dir = None

    def tearDown(self):
        for p in reversed(self.procs):
            p.stop()
            if isinstance(p, Sidecar):
                shutil.rmtree(p.dir, ignore_errors=True)
        if self.app:
            self.app.stop()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def chain_serial(self, who):
        with open(os.path.join(self.dir, who + "-certs", "cert-chain.pem")) as f:
            return serial_of(f.read())

    def test_3_ca_down_through_a_renewal(self):
        # 30 s certificates, renewed at 15 s give or take 1.5 s: the CA goes down at 2 s and
        # comes back once each sidecar has failed to renew twice (retries about 1 s, 2 s, 4 s
        # apart), so the next retry succeeds well before the 30 s expiry. Every request is a
        # new mTLS handshake, so serving on the current certificates is what is shown.
        self.start("30s", {"maxRequestsPerConnection": 1})
        started = time.monotonic()
        first = {w: self.chain_serial(w) for w in ("server", "client")}
        load = Load(self.client.port("outbound"), "reviews")
        sidecars = (("server", self.server), ("client", self.client))

        def failed_renewals():
            return {w: [l for l in s.stderr().splitlines()
                        if "certificate request failed" in l and "retrying" in l]
                    for w, s in sidecars}
        try:
            time.sleep(2)
            accepted = lambda: metric(self.server.port("admin"),  # noqa: E731
                                      "mesh_proxy_downstream_connections_total")
            self.ca.proc.kill()
            self.ca.proc.wait()
            down_at = time.monotonic() - started
            accepted_at_kill = accepted()
            until("two failed renewals in each sidecar",
                  lambda: all(len(f) >= 2 for f in failed_renewals().values()), 25)
            during = load.count()
            handshakes_down = accepted() - accepted_at_kill
            unchanged = {w: self.chain_serial(w) for w in ("server", "client")}
            renewals = failed_renewals()
            self.ca.stop()
            self.ca = CaAgain(self.ca, "--default-ttl", "30s")
            self.procs[0] = self.ca
            up_at = time.monotonic() - started
            renewed = until("both sidecars renewed",
                            lambda: all(self.chain_serial(w) != first[w]
                                        for w in ("server", "client")) and
                            time.monotonic() - started, 12)
            time.sleep(0.5)
        finally:
            sent, failed = load.stop("drill 3, CA down through a renewal")
        presented = serial_of(presented_chain(self.ca, self.dir, self.server.port("inbound")))
        print("  CA down from %.1f s to %.1f s (%d requests sent by then, %d mTLS handshakes "
              "while it was down); both sidecars renewed at %.1f s (expiry at 30 s); the server "
              "presents %s (was %s)" % (down_at, up_at, during[0], handshakes_down, renewed,
                                        presented, first["server"]), file=sys.stderr)
        print("  failed renewals retried while the CA was down: server %d, client %d; the "
              "server's last: %s" % (len(renewals["server"]), len(renewals["client"]),
                                     renewals["server"][-1]), file=sys.stderr)
        self.assertEqual(failed, 0, load.failures[:10])
        self.assertEqual(unchanged, first)  # no renewal while the CA was down
        self.assertGreater(handshakes_down, 1000)
        self.assertLess(renewed, 28)  # before the first certificates expire
        for who in ("server", "client"):
            self.assertGreaterEqual(len(renewals[who]), 2, who)
        self.assertEqual(presented, self.chain_serial("server"))
        self.assertNotEqual(presented, first["server"])

    def test_4_rotate_the_root_under_load(self):
        # 4 s certificates (renewed at about 2 s); one request per upstream connection, so
        # every request is a new mTLS handshake between the sidecars.
        lifetime = 4
        self.start("%ds" % lifetime, {"maxRequestsPerConnection": 1})
        rotate = lambda step: mesh("ca", "--data-dir", self.ca.data, "rotate-root", step)  # noqa
        with open(self.ca.root) as f:
            old_root = f.read()
        accepted = lambda: metric(self.server.port("admin"),  # noqa: E731
                                  "mesh_proxy_downstream_connections_total")
        accepted_before = accepted()
        load = Load(self.client.port("outbound"), "reviews")
        try:
            time.sleep(1)
            steps = []
            for step in ("begin", "activate", "finish"):
                res = rotate(step)
                self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
                steps.append((step, load.count()[0]))
                # docs/ca.md: one certificate lifetime between steps (plus a reload).
                time.sleep(lifetime + 1)
        finally:
            sent, failed = load.stop("drill 4, root rotated with overlap")
            if load.failures:
                for who, sidecar in (("server", self.server), ("client", self.client)):
                    for line in sidecar.stderr().splitlines():
                        if " info " not in line or "refused" in line:
                            print("  %s sidecar: %s" % (who, line), file=sys.stderr)
        with open(self.ca.root) as f:
            new_root = f.read()
        self.assertNotEqual(new_root, old_root)
        new_root_file = os.path.join(self.dir, "new-root.pem")
        old_root_file = os.path.join(self.dir, "old-root.pem")
        for path, text in ((new_root_file, new_root), (old_root_file, old_root)):
            with open(path, "w") as f:
                f.write(text)
        presented = presented_chain(self.ca, self.dir, self.server.port("inbound"))
        handshakes = accepted() - accepted_before
        refused = metric(self.server.port("admin"), "mesh_proxy_inbound_refusals_total")
        connect_failures = sum(int(h["cx_connect_fail"]) for h in host_stats(
            self.client.admin("/clusters"), CLUSTER).values())
        print("  requests sent when each step ran: %s; mTLS connections the server sidecar "
              "accepted: %d; refused handshakes: %d; client connect failures: %d"
              % (steps, handshakes, refused, connect_failures), file=sys.stderr)
        # docs/ca.md: no handshake fails during a rotation, so no request does either.
        self.assertEqual(failed, 0, load.failures[:10])
        self.assertEqual(refused, 0)
        self.assertEqual(connect_failures, 0)
        self.assertGreaterEqual(handshakes, sent * 0.9)  # about one handshake per request
        # Both sidecars now hold certificates of the new root only.
        for who in ("server", "client"):
            chain = os.path.join(self.dir, who + "-certs", "cert-chain.pem")
            with open(chain) as f:
                pem = f.read()
            self.assertTrue(verifies(pem, new_root_file, self.dir), who)
            self.assertFalse(verifies(pem, old_root_file, self.dir), who)
            with open(os.path.join(self.dir, who + "-certs", "root-cert.pem")) as f:
                self.assertEqual(f.read().count("BEGIN CERTIFICATE"), 1, who)
        # ...and a new handshake with the server sidecar shows the new root's certificate.
        self.assertTrue(verifies(presented, new_root_file, self.dir))
        self.assertFalse(verifies(presented, old_root_file, self.dir))


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() else 1)
