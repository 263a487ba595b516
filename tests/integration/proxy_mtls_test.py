"""Two `mesh proxy` sidecars with certificates from a real `mesh ca`: a request goes client
sidecar -> mTLS -> server sidecar -> app; PeerAuthentication STRICT and PERMISSIVE; the
cluster's expected identities; concurrent exchanges sharing one multiplexed connection, and a
peer that does not multiplex; openssl s_client against the inbound port; and the pilot
subscription against a small pilot written here with Python's ssl module."""
import concurrent.futures
import http.client
import json
import os
import queue
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

from ca_test import Ca
from meshtest import MESH, main, mesh
from proxy_http_test import Upstream, free_port
from proxy_load_test import AsyncUpstream, h2load_counts

TD = "spiffe://cluster.local"
CLIENT_ID = TD + "/ns/default/sa/productpage"
SERVER_ID = TD + "/ns/default/sa/reviews"
SERVICE = "reviews.default.svc.cluster.local"
CLUSTER = "outbound|9080||" + SERVICE


def server_snapshot(app_port, mode="STRICT", version="s1"):
    return {
        "version": version,
        "listeners": [{"name": "inbound", "address": "127.0.0.1", "port": 0,
                       "direction": "INBOUND", "defaultMtls": mode,
                       "inboundPorts": [{"port": 9080, "protocol": "http",
                                         "cluster": "inbound|9080||", "mtls": mode}]}],
        "clusters": [{"name": "inbound|9080||", "service": SERVICE, "port": 9080,
                      "endpoints": [{"address": "127.0.0.1", "port": app_port}]}],
    }


def mesh_cluster(name, sidecar_port, identities):
    return {"name": name, "service": SERVICE, "port": 9080,
            "tls": {"mode": "ISTIO_MUTUAL", "identities": identities},
            "endpoints": [{"address": "127.0.0.1", "port": 9080, "sidecarPort": sidecar_port,
                           "identity": SERVER_ID}]}


def client_snapshot(sidecar_port, port=0, version="c1"):
    """`reviews` goes to the server sidecar expecting its identity; `impostor` expects
    another identity from the same sidecar, so the server's certificate must be refused."""
    return {
        "version": version,
        "listeners": [{"name": "outbound", "address": "127.0.0.1", "port": port,
                       "routeTable": "rt"}],
        "routeTables": [{"name": "rt", "virtualHosts": [
            {"name": "reviews", "domains": ["reviews"],
             "routes": [{"route": [{"cluster": CLUSTER}]}]},
            {"name": "impostor", "domains": ["impostor"],
             "routes": [{"route": [{"cluster": "outbound|9080||impostor"}]}]}]}],
        "clusters": [mesh_cluster(CLUSTER, sidecar_port, [SERVER_ID]),
                     mesh_cluster("outbound|9080||impostor", sidecar_port,
                                  [TD + "/ns/default/sa/ratings"])],
    }


class Sidecar:
    """A running `mesh proxy` with a workload certificate from the CA."""

    def __init__(self, ca, sa, snapshot=None, *extra, ns="default"):
        self.dir = tempfile.mkdtemp()
        self.config = os.path.join(self.dir, "snapshot.json")
        args = []
        if snapshot is not None:
            self.write(snapshot)
            args = ["--config", self.config]
        token_file = os.path.join(self.dir, "token")
        with open(token_file, "w") as f:
            f.write(ca.token(ns=ns, sa=sa) + "\n")
        self.log = open(os.path.join(self.dir, "stderr.log"), "w+")
        self.proc = subprocess.Popen(
            [MESH, "proxy", *args, "--admin", "127.0.0.1:0", "--readiness", "127.0.0.1:0",
             "--concurrency", "1", "--ca-address", ca.address, "--ca-root", ca.root,
             "--token-file", token_file, "--namespace", ns, "--service-account", sa,
             *extra],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening"):
            raise AssertionError("proxy did not start: " + line + self.stderr())
        self.addresses = dict(item.split("=", 1) for item in line.split()[1:])

    def stderr(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def write(self, snapshot):
        with open(self.config + ".tmp", "w") as f:
            json.dump(snapshot, f)
        os.replace(self.config + ".tmp", self.config)

    def port(self, name):
        return int(self.addresses[name].rsplit(":", 1)[1])

    def ready_status(self):
        try:
            with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.port('readiness')}/healthz/ready", timeout=5) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    def wait_ready(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.ready_status() == 200:
                return
            time.sleep(0.05)
        raise AssertionError("sidecar never became ready:\n" + self.stderr())

    def admin(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port('admin')}{path}", timeout=5) as r:
            return r.read().decode()

    def counter(self, name, label):
        m = re.search(rf'^{name}{{{label}}} (\d+)$', self.admin("/stats"), re.M)
        return int(m.group(1)) if m else 0

    def get(self, host, port, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/hello", headers={"Host": host, **(headers or {})})
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        return resp, body

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class MtlsBetweenSidecars(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp()
        cls.ca = Ca(cls.dir)
        # "/slow" keeps exchanges in flight long enough to overlap.
        cls.app = Upstream("reviews-app",
                           lambda h: time.sleep(0.3) if h.path == "/slow" else None)
        cls.server = Sidecar(cls.ca, "reviews", server_snapshot(cls.app.port))
        cls.inbound = cls.server.port("inbound")
        cls.client = Sidecar(cls.ca, "productpage", client_snapshot(cls.inbound))
        cls.outbound = cls.client.port("outbound")
        cls.server.wait_ready()
        cls.client.wait_ready()

    @classmethod
    def tearDownClass(cls):
        cls.client.stop()
        cls.server.stop()
        cls.app.stop()
        cls.ca.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def set_mode(self, mode):
        self.server.write(server_snapshot(self.app.port, mode, version="s-" + mode))
        self.server.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while time.time() < deadline:
            if f'"s-{mode}"' in self.server.admin("/config_dump"):
                return
            time.sleep(0.05)
        self.fail("the server sidecar did not load mode " + mode)

    def plain_request(self, headers=None):
        return self.client.get("reviews", self.inbound, headers)

    def test_request_crosses_mtls_and_the_app_learns_the_caller(self):
        # A forged header from the calling app must not reach the server's app.
        resp, body = self.client.get("reviews", self.outbound,
                                     {"x-forwarded-client-cert": "URI=" + TD + "/ns/x/sa/forged"})
        self.assertEqual(resp.status, 200, body)
        seen = json.loads(body)
        self.assertEqual(seen["server"], "reviews-app")
        headers = {k.lower(): v for k, v in seen["headers"].items()}
        self.assertEqual(headers["x-forwarded-client-cert"], f"By={SERVER_ID};URI={CLIENT_ID}")

    def test_cluster_refuses_a_server_with_an_unexpected_identity(self):
        resp, body = self.client.get("impostor", self.outbound)
        self.assertEqual(resp.status, 503, body)
        self.assertIn("UF", resp.getheader("x-mesh-response-flags"))
        self.assertIn(b"peer " + SERVER_ID.encode() + b" is not an allowed identity", body)

    def test_strict_refuses_plain_text_and_permissive_takes_both(self):
        before = self.server.counter("mesh_proxy_inbound_refusals_total", 'reason="plaintext"')
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionResetError)):
            self.plain_request()
        self.assertEqual(
            self.server.counter("mesh_proxy_inbound_refusals_total", 'reason="plaintext"'),
            before + 1)
        try:
            self.set_mode("PERMISSIVE")
            resp, body = self.plain_request({"x-forwarded-client-cert": "URI=forged"})
            self.assertEqual(resp.status, 200, body)
            headers = {k.lower(): v for k, v in json.loads(body)["headers"].items()}
            self.assertNotIn("x-forwarded-client-cert", headers)  # no peer, no header
            resp, body = self.client.get("reviews", self.outbound)  # mTLS still works
            self.assertEqual(resp.status, 200, body)
            self.assertIn(CLIENT_ID, body.decode())
        finally:
            self.set_mode("STRICT")
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionResetError)):
            self.plain_request()

    def test_concurrent_exchanges_share_one_connection_between_sidecars(self):
        def call(_):
            conn = http.client.HTTPConnection("127.0.0.1", self.outbound, timeout=10)
            conn.request("GET", "/slow", headers={"Host": "reviews"})
            resp = conn.getresponse()
            body = resp.read()
            conn.close()
            return resp.status, body

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            results = list(pool.map(call, range(16)))
        for status, body in results:
            self.assertEqual(status, 200, body)
            # Each stream is served with the identity of the connection that carries it.
            self.assertIn(f"By={SERVER_ID};URI={CLIENT_ID}", body.decode())
        # Sixteen exchanges at once, and one mTLS connection between the sidecars.
        self.assertEqual(established_to(self.inbound), 1)

    def test_a_peer_that_does_not_multiplex_gets_a_connection_per_exchange(self):
        # An HTTP/1.1-only peer with the server's identity: openssl s_server, which picks
        # "mesh/http1.1" from the client's ALPN list and answers each request on a connection.
        certs = os.path.join(self.dir, "http1-peer")
        res = mesh("ca", "csr", "--ca", self.ca.address, "--ca-root", self.ca.root, "--token",
                   self.ca.token(sa="reviews"), "--out", certs)
        self.assertEqual(res.returncode, 0, res.stderr)
        port = free_port()
        peer = subprocess.Popen(
            ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert",
             os.path.join(certs, "cert-chain.pem"), "-key", os.path.join(certs, "key.pem"),
             "-alpn", "mesh/http1.1", "-www", "-quiet"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = None
        try:
            deadline = time.time() + 10
            while established_to(port, state="0A") == 0 and time.time() < deadline:
                time.sleep(0.05)
            client = Sidecar(self.ca, "productpage", client_snapshot(port))
            client.wait_ready()
            for _ in range(3):
                resp, body = client.get("reviews", client.port("outbound"))
                self.assertEqual(resp.status, 200, body)
                self.assertIn(b"<HTML>", body)  # s_server's own page
        finally:
            if client:
                client.stop()
            peer.kill()
            peer.wait()

    def s_client(self, *extra, data="", alpn="mesh/http1.1"):
        # -ign_eof waits for the server to close, which an HTTP/1.1 request makes it do.
        return subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{self.inbound}", "-CAfile",
             self.ca.root, "-servername", "outbound_.9080_._." + SERVICE, "-alpn", alpn,
             *(["-ign_eof"] if alpn == "mesh/http1.1" else []), *extra],
            input=data, capture_output=True, text=True, timeout=30)

    def test_openssl_s_client_sees_a_handshake_that_needs_a_client_certificate(self):
        request = "GET /s HTTP/1.1\r\nHost: reviews\r\nConnection: close\r\n\r\n"
        anonymous = self.s_client(data=request)
        out = anonymous.stdout + anonymous.stderr
        self.assertIn("certificate required", out)  # the server's alert, TLS 1.3
        self.assertNotIn("reviews-app", out)
        # With a certificate from the same CA the request goes through, and the app sees it.
        certs = os.path.join(self.dir, "s_client")
        res = mesh("ca", "csr", "--ca", self.ca.address, "--ca-root", self.ca.root, "--token",
                   self.ca.token(sa="debug"), "--out", certs)
        self.assertEqual(res.returncode, 0, res.stderr)
        good = self.s_client("-cert", os.path.join(certs, "cert-chain.pem"), "-key",
                             os.path.join(certs, "key.pem"), data=request)
        self.assertIn("Verify return code: 0 (ok)", good.stdout)
        self.assertIn("ALPN protocol: mesh/http1.1", good.stdout)
        self.assertIn("reviews-app", good.stdout)
        self.assertIn(f"URI={TD}/ns/default/sa/debug", good.stdout)
        # A calling sidecar's HTTP pool offers the multiplexed protocol first, and gets it.
        mux = self.s_client("-cert", os.path.join(certs, "cert-chain.pem"), "-key",
                            os.path.join(certs, "key.pem"), alpn="mesh/mux1,mesh/http1.1")
        self.assertIn("ALPN protocol: mesh/mux1", mux.stdout)


def established_to(port, state="01"):
    """TCP sockets on this machine whose remote port is `port` (state 01: established), or
    with state "0A", listening sockets on `port`, from /proc/net/tcp."""
    count = 0
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            local, remote, st = fields[1], fields[2], fields[3]
            if st != state:
                continue
            at = local if state == "0A" else remote
            if int(at.rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


class DrainBetweenSidecars(unittest.TestCase):
    """A rolling restart: one of two server sidecars gets SIGTERM while h2load keeps the
    client sidecar busy. Its shared connection drains (GOAWAY, in-flight exchanges answered
    with "connection: close"), the client dials the other one, and no request fails."""

    def test_sigterm_of_one_server_sidecar_under_load_fails_no_request(self):
        workdir = tempfile.mkdtemp()
        ca = Ca(workdir)
        apps = [AsyncUpstream("a1", delay=0.02), AsyncUpstream("a2", delay=0.02)]
        servers, client = [], None
        try:
            servers = [Sidecar(ca, "reviews", server_snapshot(a.port), "--drain-seconds", "5")
                       for a in apps]
            snap = client_snapshot(servers[0].port("inbound"))
            snap["clusters"][0]["endpoints"] = [
                {"address": "127.0.0.1", "port": 9080 + i, "sidecarPort": s.port("inbound"),
                 "identity": SERVER_ID} for i, s in enumerate(servers)]
            # What pilot gives every route: Istio's default retries.
            snap["routeTables"][0]["virtualHosts"][0]["routes"][0]["retries"] = {
                "attempts": 2,
                "retryOn": "connect-failure,refused-stream,unavailable,cancelled,"
                           "retriable-status-codes"}
            client = Sidecar(ca, "productpage", snap)
            for s in servers + [client]:
                s.wait_ready()
            load = subprocess.Popen(
                ["h2load", "--h1", "-c", "16", "-t", "1", "-D", "4", "-H", ":authority: reviews",
                 f"http://127.0.0.1:{client.port('outbound')}/"],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            time.sleep(1.5)
            before = (apps[0].arrived, apps[1].arrived)
            servers[0].proc.send_signal(signal.SIGTERM)
            code = servers[0].proc.wait(timeout=15)
            report, _ = load.communicate(timeout=60)
            counts = h2load_counts(report)
            print(f"\nh2load --h1 -c 16 for 4 s, SIGTERM to one of two server sidecars after "
                  f"1.5 s: {counts['succeeded']} succeeded, {counts['failed']} failed, "
                  f"{counts['errored']} errored, non-2xx "
                  f"{counts['3xx'] + counts['4xx'] + counts['5xx']}; app a1 {apps[0].arrived} "
                  f"({before[0]} before), a2 {apps[1].arrived} ({before[1]} before)")
            self.assertEqual((counts["failed"], counts["errored"], counts["timeout"]), (0, 0, 0),
                             report)
            self.assertEqual(counts["3xx"] + counts["4xx"] + counts["5xx"], 0, report)
            self.assertEqual(code, 0, servers[0].stderr())
            # Both served before; after the SIGTERM the other one took the load.
            self.assertGreater(before[0], 50)
            self.assertGreater(before[1], 50)
            self.assertGreater(apps[1].arrived - before[1], 200)
        finally:
            if client:
                client.stop()
            for s in servers:
                s.stop()
            for a in apps:
                a.stop()
            ca.stop()
            shutil.rmtree(workdir, ignore_errors=True)


def serial_of(pem_text):
    out = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=pem_text,
                         capture_output=True, text=True, timeout=30)
    return out.stdout.strip()


class CertificateRenewal(unittest.TestCase):
    """Certificates that live 4 s are renewed at about 2 s: the new one is what new
    handshakes see, and a client connection open across the renewal keeps working."""

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.ca = Ca(self.dir, "cluster.local", "--default-ttl", "4s")
        self.app = Upstream("renewed-app")
        self.certs = os.path.join(self.dir, "server-certs")
        self.server = Sidecar(self.ca, "reviews", server_snapshot(self.app.port),
                              "--cert-dir", self.certs)
        self.client = Sidecar(self.ca, "productpage",
                              client_snapshot(self.server.port("inbound")))
        self.server.wait_ready()
        self.client.wait_ready()

    def tearDown(self):
        self.client.stop()
        self.server.stop()
        self.app.stop()
        self.ca.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def presented_serial(self):
        certs = os.path.join(self.dir, "probe-" + str(time.time()))
        res = mesh("ca", "csr", "--ca", self.ca.address, "--ca-root", self.ca.root, "--token",
                   self.ca.token(sa="probe"), "--out", certs)
        self.assertEqual(res.returncode, 0, res.stderr)
        out = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{self.server.port('inbound')}",
             "-CAfile", self.ca.root, "-cert", os.path.join(certs, "cert-chain.pem"), "-key",
             os.path.join(certs, "key.pem")], input="", capture_output=True, text=True,
            timeout=30).stdout
        return serial_of(out)

    def test_renewal_swaps_the_certificate_without_dropping_connections(self):
        chain = os.path.join(self.certs, "cert-chain.pem")
        with open(chain) as f:
            first = serial_of(f.read())
        self.assertEqual(self.presented_serial(), first)
        conn = http.client.HTTPConnection("127.0.0.1", self.client.port("outbound"), timeout=10)

        def get():
            conn.request("GET", "/r", headers={"Host": "reviews"})
            resp = conn.getresponse()
            return resp.status, resp.read()

        self.assertEqual(get()[0], 200)
        deadline = time.time() + 10
        renewed = first
        while renewed == first and time.time() < deadline:
            time.sleep(0.1)
            with open(chain) as f:
                renewed = serial_of(f.read())
        self.assertNotEqual(renewed, first, "the server's certificate was not renewed")
        status, body = get()  # the same client connection, across the renewal
        self.assertEqual(status, 200, body)
        self.assertIn(CLIENT_ID.encode(), body)
        self.assertEqual(self.presented_serial(), renewed)
        conn.close()


def frame(message):
    data = json.dumps(message).encode()
    return struct.pack(">I", len(data)) + data


class FakePilot:
    """Pilot's side of the protocol: mTLS with a certificate from the CA, 4-byte framing.
    Serves one proxy connection at a time; messages from the proxy go to `received`."""

    def __init__(self, ca, workdir, port=0):
        certs = os.path.join(workdir, "pilot-certs")
        if not os.path.exists(certs):
            res = mesh("ca", "csr", "--ca", ca.address, "--ca-root", ca.root, "--token",
                       ca.token(ns="mesh-system", sa="pilot"), "--out", certs)
            assert res.returncode == 0, res.stderr
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(os.path.join(certs, "cert-chain.pem"),
                                 os.path.join(certs, "key.pem"))
        self.ctx.load_verify_locations(os.path.join(certs, "root-cert.pem"))
        self.ctx.verify_mode = ssl.CERT_REQUIRED
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.received = queue.Queue()
        self.conn = None
        self.peer = None
        self.connected = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        try:
            raw, _ = self.sock.accept()
            self.conn = self.ctx.wrap_socket(raw, server_side=True)
        except OSError:
            return
        self.peer = self.conn.getpeercert()
        self.connected.set()
        try:
            while True:
                head = self._exactly(4)
                self.received.put(json.loads(self._exactly(struct.unpack(">I", head)[0])))
        except (OSError, ValueError, EOFError):
            pass

    def _exactly(self, n):
        data = b""
        while len(data) < n:
            chunk = self.conn.recv(n - len(data))
            if not chunk:
                raise EOFError()
            data += chunk
        return data

    def send(self, message):
        self.conn.sendall(frame(message))

    def next(self, kind, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            message = self.received.get(timeout=max(0.01, deadline - time.time()))
            if message["type"] == kind:
                return message
        raise AssertionError("no " + kind)

    def stop(self):
        self.sock.close()
        if self.conn:
            try:
                self.conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.conn.close()


def pilot_fed_sidecar(ca, pilot):
    """productpage's sidecar, with no config of its own, subscribed to `pilot`."""
    return Sidecar(ca, "productpage", None, "--pilot-address", f"127.0.0.1:{pilot.port}",
                   "--label", "app=productpage", "--port", "9080",
                   "--node", "productpage-1.default")


class PilotSubscription(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.ca = Ca(self.dir)
        self.app = Upstream("direct-app")
        self.pilot = FakePilot(self.ca, self.dir)
        self.sidecar = pilot_fed_sidecar(self.ca, self.pilot)

    def tearDown(self):
        self.sidecar.stop()
        self.pilot.stop()
        self.app.stop()
        self.ca.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def snapshot(self, port, version):
        return {"version": version,
                "listeners": [{"name": "outbound", "address": "127.0.0.1", "port": port,
                               "routeTable": "rt"}],
                "routeTables": [{"name": "rt", "virtualHosts": [
                    {"name": "app", "domains": ["*"],
                     "routes": [{"route": [{"cluster": "app"}]}]}]}],
                "clusters": [{"name": "app", "service": "app",
                              "endpoints": [{"address": "127.0.0.1", "port": self.app.port}]}]}

    def test_snapshot_ack_bad_snapshot_nack_and_reconnect(self):
        hello = self.pilot.next("hello")
        self.assertEqual(hello["node"], "productpage-1.default")
        self.assertEqual(hello["namespace"], "default")
        self.assertEqual(hello["service_account"], "productpage")
        self.assertEqual(hello["labels"], {"app": "productpage"})
        self.assertEqual(hello["ports"], [9080])
        # Pilot sees the workload's SPIFFE id in its client certificate.
        self.assertIn(("URI", CLIENT_ID), self.pilot.peer["subjectAltName"])
        self.assertEqual(self.sidecar.ready_status(), 503)  # no config yet

        port = free_port()
        self.pilot.send({"type": "snapshot", "version": "v1", "config": self.snapshot(port, "x")})
        self.assertEqual(self.pilot.next("ack")["version"], "v1")
        self.sidecar.wait_ready()
        resp, body = self.sidecar.get("anything", port)
        self.assertEqual(resp.status, 200, body)
        self.assertIn(b"direct-app", body)

        bad = self.snapshot(port, "x")
        bad["routeTables"][0]["virtualHosts"][0]["routes"][0]["route"][0]["cluster"] = "nowhere"
        self.pilot.send({"type": "snapshot", "version": "v2", "config": bad})
        nack = self.pilot.next("nack")
        self.assertEqual(nack["version"], "v2")
        self.assertIn("nowhere", nack["reason"])
        self.assertIn('"v1"', self.sidecar.admin("/config_dump"))
        resp, body = self.sidecar.get("anything", port)
        self.assertEqual(resp.status, 200, body)

        # Pilot goes away: the proxy serves on; pilot comes back on the same port: the proxy
        # reconnects and says hello again.
        old_port = self.pilot.port
        self.pilot.stop()
        resp, body = self.sidecar.get("anything", port)
        self.assertEqual(resp.status, 200, body)
        self.pilot = FakePilot(self.ca, self.dir, old_port)
        self.assertEqual(self.pilot.next("hello", timeout=20)["node"], "productpage-1.default")
        self.pilot.send({"type": "snapshot", "version": "v3", "config": self.snapshot(port, "x")})
        self.assertEqual(self.pilot.next("ack")["version"], "v3")


if __name__ == "__main__":
    main()
